// The dashboard assembled straight from the systems of record: what a bank without the read
// model does on every app open, and what reconciliation compares the documents with. Per
// product system one query for the accounts (index on customer_id) and one for the newest N
// ledger entries per customer (LATERAL over the (customer_id, booked_at DESC) index), all
// columns as text like CDC carries them, turned into the same items by Products.ts.
import { Database, type DatabaseError } from "@bank/platform"
import { Effect } from "effect"
import * as Dashboard from "./Dashboard.ts"
import { accountOf, columns, type Item, products, type System, systems, transactionOf } from "./Products.ts"

export interface Assembled {
  readonly customerId: string
  readonly totals: ReadonlyArray<Dashboard.Total>
  readonly accounts: ReadonlyArray<Item>
  readonly latestTransactions: ReadonlyArray<Item>
}

const select = (list: ReadonlyArray<{ column: string; time: boolean }>, alias: string) =>
  list
    .map(({ column, time }) =>
      time
        ? `to_char(${alias}.${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS ${column}`
        : `${alias}.${column}::text AS ${column}`
    )
    .join(", ")

const queries = (system: System) => {
  const spec = products[system]
  const cols = columns(system)
  return {
    accounts: `SELECT a.customer_id::text AS customer_id, ${select(cols.accounts, "a")}
               FROM ${system}.${spec.accounts} a WHERE a.customer_id = ANY($1::bigint[])`,
    transactions: `SELECT c.id::text AS customer_id, t.* FROM unnest($1::bigint[]) AS c(id)
                   CROSS JOIN LATERAL (
                     SELECT ${select(cols.transactions, "x")} FROM ${system}.${spec.transactions} x
                     WHERE x.customer_id = c.id ORDER BY x.booked_at DESC, x.transaction_id DESC LIMIT $2
                   ) t`
  }
}
const sql = Object.fromEntries(systems.map((s) => [s, queries(s)])) as Record<System, ReturnType<typeof queries>>

type Row = Record<string, string | null>

/** The dashboards of `customerIds` (customers without any product get empty ones). */
export const assembleMany = (
  customerIds: ReadonlyArray<string>,
  options: { readonly latest?: number } = {}
): Effect.Effect<Map<string, Assembled>, DatabaseError, Database.Database> =>
  Effect.gen(function* () {
    const db = yield* Database.Database
    const latest = options.latest ?? Dashboard.defaultLatest
    const ids = customerIds.map(String)
    const results = yield* Effect.forEach(
      systems,
      (system) =>
        Effect.all(
          [db.query<Row>(sql[system].accounts, [ids]), db.query<Row>(sql[system].transactions, [ids, latest])],
          { concurrency: 2 }
        ).pipe(Effect.map(([accounts, transactions]) => ({ system, accounts, transactions }))),
      { concurrency: "unbounded" }
    )
    const accounts = new Map<string, Array<Item>>(ids.map((id) => [id, []]))
    const transactions = new Map<string, Array<Item>>(ids.map((id) => [id, []]))
    for (const { system, accounts: a, transactions: t } of results) {
      for (const row of a) accounts.get(row.customer_id!)?.push(accountOf(system, row))
      for (const row of t) transactions.get(row.customer_id!)?.push(transactionOf(system, row))
    }
    return new Map(
      ids.map((customerId) => {
        const list = accounts.get(customerId)!.sort(Dashboard.compareAccounts)
        return [
          customerId,
          {
            customerId,
            totals: Dashboard.totalsOf(list),
            accounts: list,
            latestTransactions: transactions.get(customerId)!.sort(Dashboard.compareTransactions).slice(0, latest)
          }
        ]
      })
    )
  }).pipe(Effect.withSpan("PgDashboard.assembleMany", { attributes: { customers: customerIds.length } }))

/** One customer's dashboard from PostgreSQL. */
export const assemble = (customerId: string, options: { readonly latest?: number } = {}) =>
  Effect.map(assembleMany([customerId], options), (all) => all.get(customerId)!)
