-- CRM / personalisation: preferences, marketing consent, wish list, interests.
-- Every key starts with customer_id, so each change routes to one customer's profile.
-- Replica identity FULL on every table: see 001_reference.sql.

CREATE SCHEMA crm;

CREATE TABLE crm.preferences (
  customer_id bigint PRIMARY KEY REFERENCES customer.customers ON DELETE CASCADE,
  -- BCP 47 language, optionally with a region: `en`, `de-AT`.
  language text NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2}(-[A-Z]{2})?$'),
  theme text NOT NULL DEFAULT 'system' CHECK (theme IN ('light', 'dark', 'system')),
  -- Consent per channel, opt-in (GDPR): false until the customer says yes.
  marketing_email boolean NOT NULL DEFAULT false,
  marketing_sms boolean NOT NULL DEFAULT false,
  marketing_push boolean NOT NULL DEFAULT false,
  consent_updated_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (consent_updated_at IS NOT NULL OR NOT (marketing_email OR marketing_sms OR marketing_push))
);
ALTER TABLE crm.preferences REPLICA IDENTITY FULL;
CREATE TRIGGER preferences_touch BEFORE UPDATE ON crm.preferences
  FOR EACH ROW EXECUTE FUNCTION ref.touch_updated_at();

-- Products the customer marked as wanted: what recommendations and offers start from.
CREATE TABLE crm.wish_list_items (
  customer_id bigint NOT NULL REFERENCES customer.customers ON DELETE CASCADE,
  product_code text NOT NULL CHECK (product_code IN (
    'savings_plus', 'gold_card', 'platinum_card', 'personal_loan', 'mortgage', 'green_mortgage',
    'brokerage', 'retirement_plan', 'travel_insurance', 'home_insurance', 'junior_account'
  )),
  note text,
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, product_code)
);
ALTER TABLE crm.wish_list_items REPLICA IDENTITY FULL;

CREATE TABLE crm.interests (
  customer_id bigint NOT NULL REFERENCES customer.customers ON DELETE CASCADE,
  interest text NOT NULL CHECK (interest IN (
    'travel', 'investing', 'home', 'cars', 'education', 'sustainability', 'retirement',
    'family', 'sports', 'technology', 'dining', 'culture'
  )),
  -- How strongly the interest shows in the customer's behaviour, 0-100.
  score smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, interest)
);
ALTER TABLE crm.interests REPLICA IDENTITY FULL;
CREATE TRIGGER interests_touch BEFORE UPDATE ON crm.interests
  FOR EACH ROW EXECUTE FUNCTION ref.touch_updated_at();
