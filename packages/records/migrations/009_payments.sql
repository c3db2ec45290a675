-- Payments (transfers between deposit accounts) and the read-mostly reference data the app
-- shows: the product catalogue and exchange rates.
-- Replica identity FULL on every table: see 001_reference.sql.

CREATE SCHEMA payments;

-- One row per transfer a customer asked for, written in the same database transaction as its
-- ledger entries (or alone, when it was rejected), so a transfer is decided exactly once:
-- (customer_id, idempotency_key) is unique, and the payments actor inserts this row before it
-- books anything. A rejected transfer keeps its reason; sending the same key again returns the
-- same decision rather than trying again.
CREATE TABLE payments.transfers (
  transfer_id uuid PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customer.customers,
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 128),
  -- SHA-256 (hex) of the request as the edge accepted it: the same key with another body is
  -- refused instead of being taken for a resend.
  request_hash text NOT NULL CHECK (request_hash ~ '^[0-9a-f]{64}$'),
  -- As asked: for a rejected transfer these need not name real or own accounts.
  from_account_id bigint NOT NULL,
  to_account_id bigint NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  reference text NOT NULL CHECK (length(reference) <= 140),
  status text NOT NULL CHECK (status IN ('booked', 'rejected')),
  reason text CHECK (reason IN ('FromAccountNotFound', 'ToAccountNotFound', 'AccountNotOpen', 'CurrencyMismatch', 'InsufficientFunds')),
  -- The ledger entries a booked transfer made: deposits.transactions (account_id, entry_no).
  debit_entry_no bigint,
  credit_entry_no bigint,
  requested_at timestamptz NOT NULL,
  decided_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (customer_id, idempotency_key),
  CHECK ((status = 'rejected') = (reason IS NOT NULL)),
  CHECK ((status = 'booked') = (debit_entry_no IS NOT NULL AND credit_entry_no IS NOT NULL)),
  CHECK (from_account_id <> to_account_id)
);
ALTER TABLE payments.transfers REPLICA IDENTITY FULL;
CREATE INDEX transfers_customer_idx ON payments.transfers (customer_id, requested_at DESC);

-- The product catalogue: what the bank offers, per system of record and product code (the
-- `product` column of deposits.accounts, cards.cards, lending.loans, investments.accounts).
CREATE TABLE ref.products (
  system text NOT NULL CHECK (system IN ('deposits', 'cards', 'lending', 'investments')),
  product text NOT NULL CHECK (product ~ '^[a-z_]{2,32}$'),
  name text NOT NULL,
  description text NOT NULL,
  -- Nominal annual rate in percent (credit interest for deposits, APR for cards and loans).
  interest_rate numeric(7, 4) CHECK (interest_rate BETWEEN -10 AND 100),
  -- Yearly fee in minor units of `fee_currency`.
  annual_fee bigint NOT NULL DEFAULT 0 CHECK (annual_fee >= 0),
  fee_currency char(3) NOT NULL DEFAULT 'EUR' REFERENCES ref.currencies,
  available boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (system, product)
);
ALTER TABLE ref.products REPLICA IDENTITY FULL;
CREATE TRIGGER products_touch BEFORE UPDATE ON ref.products
  FOR EACH ROW EXECUTE FUNCTION ref.touch_updated_at();

INSERT INTO ref.products (system, product, name, description, interest_rate, annual_fee) VALUES
  ('deposits', 'current', 'Current account', 'Everyday account with a debit card and an arranged overdraft.', 0.0000, 0),
  ('deposits', 'savings', 'Savings account', 'Instant-access savings, interest paid monthly.', 2.2500, 0),
  ('cards', 'classic', 'Classic credit card', 'Credit card for everyday purchases.', 18.9000, 0),
  ('cards', 'gold', 'Gold credit card', 'Higher limit, travel insurance included.', 17.9000, 9900),
  ('cards', 'platinum', 'Platinum credit card', 'Premium card with lounge access and concierge.', 16.9000, 29900),
  ('lending', 'personal', 'Personal loan', 'Fixed-rate instalment loan for any purpose.', 6.4900, 0),
  ('lending', 'mortgage', 'Mortgage', 'Home loan with a fixed rate for the whole term.', 3.8750, 0),
  ('investments', 'brokerage', 'Brokerage account', 'Trade shares and funds on the exchange.', NULL, 0),
  ('investments', 'retirement', 'Retirement account', 'Long-term investing with tax advantages.', NULL, 0);

-- Exchange rates: units of `quote` per one unit of `base`, exact (numeric, never a float).
-- The demonstration rates of packages/records/src/Money.ts, per EUR.
CREATE TABLE ref.exchange_rates (
  base char(3) NOT NULL REFERENCES ref.currencies,
  quote char(3) NOT NULL REFERENCES ref.currencies,
  rate numeric(20, 8) NOT NULL CHECK (rate > 0),
  as_of timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (base, quote),
  CHECK (base <> quote)
);
ALTER TABLE ref.exchange_rates REPLICA IDENTITY FULL;

INSERT INTO ref.exchange_rates (base, quote, rate) VALUES
  ('EUR', 'USD', 1.08000000),
  ('EUR', 'GBP', 0.85000000),
  ('EUR', 'CHF', 0.95000000),
  ('EUR', 'SEK', 11.50000000),
  ('EUR', 'PLN', 4.30000000),
  ('EUR', 'JPY', 160.00000000),
  ('EUR', 'KWD', 0.33000000),
  ('EUR', 'BHD', 0.40500000);
