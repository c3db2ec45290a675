// Profiles assembled straight from the systems of record (what reconciliation compares the
// documents with): each contributing table read for a page of customers, every column as text
// like CDC carries it, built into the same paths by Profile.ts.
import type { Cdc } from "@bank/contracts"
import { Database, type DatabaseError } from "@bank/platform"
import { Effect } from "effect"
import { build, type Json, tableColumns, timeColumns } from "./Profile.ts"

const select = (table: string) => {
  const columns = tableColumns[table]!.map((c) =>
    timeColumns.has(c)
      ? `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS ${c}`
      : `${c}::text AS ${c}`
  )
  return `SELECT customer_id::text AS customer_id, ${columns.join(", ")} FROM ${table} WHERE customer_id = ANY($1::bigint[])`
}
const queries = Object.keys(tableColumns).map((table) => [table, select(table)] as const)

/** The profiles of `customerIds` that exist in the customer master. */
export const assembleMany = (
  customerIds: ReadonlyArray<string>
): Effect.Effect<Map<string, Record<string, Json>>, DatabaseError, Database.Database> =>
  Effect.gen(function* () {
    const db = yield* Database.Database
    const results = yield* Effect.forEach(
      queries,
      ([table, sql]) => Effect.map(db.query<Cdc.Row>(sql, [customerIds]), (rows) => ({ table, rows })),
      { concurrency: 4 }
    )
    const rowsOf = new Map<string, Array<{ table: string; row: Cdc.Row }>>()
    for (const { table, rows } of results) {
      for (const row of rows) {
        const list = rowsOf.get(row.customer_id!) ?? []
        list.push({ table, row })
        rowsOf.set(row.customer_id!, list)
      }
    }
    // Only customers of the master have a profile; CRM rows cannot exist without one.
    const known = new Set(results.find((r) => r.table === "customer.customers")!.rows.map((r) => r.customer_id!))
    return new Map([...known].map((id) => [id, build(id, rowsOf.get(id) ?? [])]))
  }).pipe(Effect.withSpan("PgProfile.assembleMany", { attributes: { customers: customerIds.length } }))
