-- Reference data every system of record shares.
--
-- Money is never a float anywhere: every amount is a bigint count of the currency's minor unit
-- (EUR 12.34 is 1234, JPY 1234 is 1234, KWD 1.234 is 1234), and `ref.currencies` says how many
-- decimals each ISO 4217 currency has, so a reader can format or convert it exactly.
--
-- Replica identity, for every table of this migration set: FULL, chosen on purpose. Change data
-- capture sends the whole old row with every UPDATE and DELETE, so a consumer can route a delete
-- to the customer's documents (`{c:<customerId>}`) without a lookup, and audit what changed. The
-- cost is WAL volume on updates; our rows are narrow (well under 1 kB), so it stays small. A hot
-- table that one day grows wide can move to DEFAULT (primary key only) in a later migration.

CREATE SCHEMA ref;

CREATE TABLE ref.currencies (
  code char(3) PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
  minor_unit smallint NOT NULL CHECK (minor_unit BETWEEN 0 AND 4),
  name text NOT NULL
);
ALTER TABLE ref.currencies REPLICA IDENTITY FULL;

INSERT INTO ref.currencies (code, minor_unit, name) VALUES
  ('EUR', 2, 'Euro'),
  ('USD', 2, 'US Dollar'),
  ('GBP', 2, 'Pound Sterling'),
  ('CHF', 2, 'Swiss Franc'),
  ('SEK', 2, 'Swedish Krona'),
  ('PLN', 2, 'Zloty'),
  ('JPY', 0, 'Yen'),
  ('KWD', 3, 'Kuwaiti Dinar'),
  ('BHD', 3, 'Bahraini Dinar');

-- Transaction categories, shared by every product's ledger so the dashboard can group spending.
CREATE TABLE ref.categories (
  code text PRIMARY KEY CHECK (code ~ '^[a-z_]{2,32}$'),
  label text NOT NULL
);
ALTER TABLE ref.categories REPLICA IDENTITY FULL;

INSERT INTO ref.categories (code, label) VALUES
  ('opening', 'Balance brought forward'),
  ('salary', 'Salary'),
  ('transfer_in', 'Incoming transfer'),
  ('transfer_out', 'Outgoing transfer'),
  ('rent', 'Rent'),
  ('utilities', 'Utilities'),
  ('groceries', 'Groceries'),
  ('dining', 'Restaurants and cafés'),
  ('transport', 'Transport'),
  ('shopping', 'Shopping'),
  ('subscriptions', 'Subscriptions'),
  ('entertainment', 'Entertainment'),
  ('travel', 'Travel'),
  ('health', 'Health'),
  ('insurance', 'Insurance'),
  ('cash', 'Cash withdrawal'),
  ('fees', 'Fees and charges'),
  ('interest', 'Interest'),
  ('refund', 'Refund'),
  ('card_payment', 'Credit card payment'),
  ('loan_disbursement', 'Loan disbursement'),
  ('loan_repayment', 'Loan repayment'),
  ('securities_buy', 'Securities purchase'),
  ('securities_sell', 'Securities sale'),
  ('dividend', 'Dividend');

-- Keeps `updated_at` truthful whoever writes the row (back end, simulator, payments).
CREATE FUNCTION ref.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
