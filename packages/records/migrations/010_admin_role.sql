-- The bank's own staff log in like customers but with the `admin` role, which opens the admin
-- API (/v1/admin: sessions, unlocks, audit trail) and nothing a customer has. An admin is a row
-- of the customer master with no products.
ALTER TABLE customer.customers DROP CONSTRAINT customers_roles_check;
ALTER TABLE customer.customers ADD CONSTRAINT customers_roles_check CHECK (
  cardinality(roles) >= 1 AND roles <@ ARRAY['customer', 'premium', 'business_admin', 'beta_tester', 'admin']::text[]
);
