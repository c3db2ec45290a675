// Which columns of a table reach which CDC stream. Every consumer of a general stream
// (`cdc.customer`, ...) sees every column it carries, and so does every AOF file and replica of
// Redis: a secret must not be on it. Per table (`schema.table`):
//   exclude / include   columns dropped from (or the only ones kept on) the general stream;
//   copyTo              a private system whose stream (`cdc.<copyTo>`) gets the row as well,
//                       with `copyColumns` only (every column when absent), for the one
//                       consumer entitled to it.
// The default keeps password hashes off `cdc.customer`: `customer.credentials` goes to it
// without `password_hash`, and whole to `cdc.identity`, which only identity's credentials
// projection reads; `customer.customers` is copied there with its roles, so the projection needs
// no other stream. Configure with CDC_COLUMN_FILTERS (JSON of the same shape; it replaces the
// default, so keep its entries).
//
// The copies keep the source entries' positions; the private stream gets its own
// TransactionCommitted (counting its copies) and SnapshotStarted / SnapshotCompleted, so a
// consumer of it applies transactions and snapshots as on any CDC stream. Stateful only for
// the open transactions' counts; pure otherwise. A row's trace context is not a column here
// (Translator.ts removed it before): it travels as the entry's `traceparent`, which the copies
// keep, so no rule can leak or lose it.
import type { Cdc } from "@bank/contracts"
import { Schema } from "effect"
import type { Outgoing } from "./Translator.ts"

const Columns = Schema.Array(Schema.String.check(Schema.isPattern(/^[a-z_][a-z0-9_]{0,62}$/)))
const SystemName = Schema.String.check(Schema.isPattern(/^[a-z_][a-z0-9_]{0,62}$/))

export const TableRule = Schema.Struct({
  exclude: Schema.optionalKey(Columns),
  include: Schema.optionalKey(Columns),
  copyTo: Schema.optionalKey(SystemName),
  copyColumns: Schema.optionalKey(Columns)
})
export type TableRule = typeof TableRule.Type

const TABLE = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/
export const Rules = Schema.Record(Schema.String, TableRule).check(
  Schema.makeFilter((rules) =>
    Object.keys(rules)
      .filter((table) => !TABLE.test(table))
      .map((table) => ({ path: [table], issue: "must name a table as schema.table" }))
  )
)
export type Rules = typeof Rules.Type

export const defaults: Rules = {
  "customer.credentials": { exclude: ["password_hash"], copyTo: "identity" },
  "customer.customers": { copyTo: "identity", copyColumns: ["customer_id", "roles"] }
}

/** Reads CDC_COLUMN_FILTERS' JSON; throws with the reason when it is not valid. */
export const parse = (text: string): Rules => Schema.decodeUnknownSync(Schema.fromJsonString(Rules))(text)

/** The private systems the rules copy to (each gets a stream). */
export const privateSystems = (rules: Rules): ReadonlyArray<string> => [
  ...new Set(Object.values(rules).flatMap((r) => (r.copyTo ? [r.copyTo] : [])))
]

const keep = (row: Cdc.Row | undefined, test: (column: string) => boolean): Cdc.Row | undefined => {
  if (row === undefined) return undefined
  const out: Record<string, string | null> = {}
  for (const [column, value] of Object.entries(row)) if (test(column)) out[column] = value
  return out
}

const project = (payload: Cdc.RowChanged, test: (column: string) => boolean): Cdc.RowChanged => {
  const { old, new: next, unchanged, ...rest } = payload
  const o = keep(old, test)
  const n = keep(next, test)
  const u = unchanged?.filter(test)
  return { ...rest, ...(o ? { old: o } : {}), ...(n ? { new: n } : {}), ...(u && u.length > 0 ? { unchanged: u } : {}) }
}

const generalTest = (rule: TableRule) => (column: string) =>
  (rule.include === undefined || rule.include.includes(column)) && !(rule.exclude ?? []).includes(column)
const copyTest = (rule: TableRule) => (column: string) =>
  rule.copyColumns === undefined || rule.copyColumns.includes(column)

/**
 * A filter for one connector: maps the entries it is about to write (in order) to what each
 * stream may carry. Keeps per open transaction how many copies each private stream got.
 */
export const make = (rules: Rules) => {
  const copies = privateSystems(rules)
  // Per transaction (xid) and private system: copies so far and their key while they share one.
  const open = new Map<number, Map<string, { changes: number; key: string | undefined }>>()
  // Per snapshot (its LSN): rows and tables copied to each private system.
  const snapshots = new Map<string, Map<string, { rows: number; tables: Set<string> }>>()

  const filter = (entries: ReadonlyArray<Outgoing>): ReadonlyArray<Outgoing> => {
    if (copies.length === 0 && Object.keys(rules).length === 0) return entries
    const out: Array<Outgoing> = []
    for (const entry of entries) {
      const payload = entry.payload
      switch (payload._tag) {
        case "RowChanged": {
          const rule = rules[`${payload.schema}.${payload.table}`]
          if (rule === undefined) {
            out.push(entry)
            break
          }
          out.push({ ...entry, payload: project(payload, generalTest(rule)) })
          if (rule.copyTo === undefined) break
          out.push({ ...entry, system: rule.copyTo, partition: 0, payload: project(payload, copyTest(rule)) })
          if (payload.op === "snapshot") {
            const perSystem = snapshots.get(payload.commitLsn) ?? new Map()
            const counted = perSystem.get(rule.copyTo) ?? { rows: 0, tables: new Set<string>() }
            counted.rows++
            counted.tables.add(`${payload.schema}.${payload.table}`)
            perSystem.set(rule.copyTo, counted)
            snapshots.set(payload.commitLsn, perSystem)
          } else {
            const perSystem = open.get(payload.xid) ?? new Map()
            const counted = perSystem.get(rule.copyTo)
            perSystem.set(
              rule.copyTo,
              counted
                ? { changes: counted.changes + 1, key: counted.key === entry.key ? entry.key : undefined }
                : { changes: 1, key: entry.key }
            )
            open.set(payload.xid, perSystem)
          }
          break
        }
        case "TransactionCommitted": {
          out.push(entry)
          const perSystem = open.get(payload.xid)
          if (perSystem === undefined) break
          open.delete(payload.xid)
          for (const [system, { changes, key }] of perSystem) {
            out.push({
              ...entry,
              system,
              partition: 0,
              key: key ?? `xid:${payload.xid}`,
              payload: { ...payload, changes }
            })
          }
          break
        }
        case "SnapshotStarted": {
          out.push(entry)
          // Once per snapshot: mirrored from the first system's marker.
          if (!snapshots.has(payload.commitLsn)) {
            snapshots.set(payload.commitLsn, new Map())
            for (const system of copies) out.push({ system, partition: 0, key: entry.key, payload })
          }
          break
        }
        case "SnapshotCompleted": {
          out.push(entry)
          const perSystem = snapshots.get(payload.commitLsn)
          if (perSystem === undefined) break
          snapshots.delete(payload.commitLsn)
          for (const system of copies) {
            const counted = perSystem.get(system)
            out.push({
              system,
              partition: 0,
              key: entry.key,
              payload: { ...payload, rows: counted?.rows ?? 0, tables: [...(counted?.tables ?? [])] }
            })
          }
          break
        }
      }
    }
    return out
  }
  return filter
}
