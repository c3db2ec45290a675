// @bank/records owns the systems of record: the bank's product back ends, simulated in
// PostgreSQL with one schema per system (customer master and credentials, CRM, deposits,
// cards, lending, investments, plus shared reference data). It holds their migrations
// (packages/records/migrations, applied by `Migrations`), the deterministic data generator
// that fills them (`Generator`, scripts/seed.ts), the activity simulator that keeps writing
// to them as the back ends would (`Simulator`, scripts/simulate.ts), the ledger check every
// product obeys (`Ledgers`), and the change data capture that carries their changes into
// Redis Streams (cdc/). Redis only ever holds projections of what lives here.
export * as DepositPosting from "./DepositPosting.ts"
export * as Generator from "./Generator.ts"
export * as Ledgers from "./Ledgers.ts"
export * as Migrations from "./Migrations.ts"
export * as Money from "./Money.ts"
export * as Simulator from "./Simulator.ts"
