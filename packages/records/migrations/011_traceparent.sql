-- The W3C traceparent of the work that booked a ledger entry (the payments actor's booking span),
-- so a customer action stays one trace through CDC: the connector takes it as the change's
-- envelope traceparent and never passes it on as data (packages/cdc Translator.ts). NULL for
-- entries booked outside a trace (the simulator, the generator, older rows).
ALTER TABLE deposits.transactions ADD COLUMN traceparent text;
