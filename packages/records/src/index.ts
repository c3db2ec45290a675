// @bank/records owns the systems of record: the bank's product back ends, simulated in
// PostgreSQL with one schema per system (customer master and credentials, CRM, deposits,
// cards, lending, investments, plus shared reference data). It holds their migrations
// (packages/records/migrations, applied by `Migrations`) and the shared kernel every capability
// that touches money uses: amounts in minor units (`Money`), the ledger check every product
// obeys (`Ledgers`) and the deposit posting rule (`DepositPosting`). The demo data and activity
// live in @bank/core-banking, the change data capture in @bank/cdc.
export * as DepositPosting from "./DepositPosting.ts"
export * as Ledgers from "./Ledgers.ts"
export * as Migrations from "./Migrations.ts"
export * as Money from "./Money.ts"
export { postDepositEntry } from "./DepositPosting.ts"
export { ledgers } from "./Ledgers.ts"
export { migrate } from "./Migrations.ts"
export { currencyExponents, minorFromText, minorToText, type MoneyView } from "./Money.ts"
