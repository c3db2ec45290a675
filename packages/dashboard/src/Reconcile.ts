// Reconciliation of the dashboards with the systems of record: every customer of the customer
// master, page by page, the stored document against the one PgDashboard assembles, field by
// field (bookkeeping such as revision, sources and asOf is the projector's own and not
// compared). Documents of customers the master no longer has are reported too. A live system
// is always a little behind its database, so customers that differ are checked again after
// `recheckAfterMs`; only differences that persist are reported. The documents checked are those
// of the generation readers use (ReadModel.ts), or of `generation` when given.
import { Database, type DatabaseError, DocumentStore, ReadModel, RedisTopology } from "@bank/platform"
import { Effect, Option } from "effect"
import { Redis, type RedisError } from "effect/persistence/Redis"
import type * as Dashboard from "./Dashboard.ts"
import { documentKey, readModel } from "./DashboardProjector.ts"
import * as PgDashboard from "./PgDashboard.ts"
import type { Item } from "./Products.ts"

export interface Mismatch {
  readonly customerId: string
  readonly document: string
  /** What differs, e.g. `accounts[deposits:12].balance`, `missing document`. */
  readonly what: string
  readonly expected?: unknown
  readonly actual?: unknown
}

/** JSON text with object keys sorted: equal for equal values whatever the key order. */
export const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        )
      : v
  )

const compareItems = (
  customerId: string,
  list: string,
  expected: ReadonlyArray<Item>,
  actual: ReadonlyArray<Item>,
  out: Array<Mismatch>
) => {
  const byId = new Map(actual.map((item) => [item.id, item]))
  for (const want of expected) {
    const have = byId.get(want.id)
    byId.delete(want.id)
    if (!have) {
      out.push({ customerId, document: "dashboard", what: `${list}[${want.id}] missing`, expected: want })
      continue
    }
    for (const field of new Set([...Object.keys(want), ...Object.keys(have)])) {
      if (canonical(want[field] ?? null) !== canonical(have[field] ?? null)) {
        out.push({
          customerId,
          document: "dashboard",
          what: `${list}[${want.id}].${field}`,
          expected: want[field] ?? null,
          actual: have[field] ?? null
        })
      }
    }
  }
  for (const extra of byId.values())
    out.push({
      customerId,
      document: "dashboard",
      what: `${list}[${extra.id}] not in the systems of record`,
      actual: extra
    })
}

/** What differs between a stored dashboard and the one assembled from PostgreSQL. Pure. */
export const compare = (
  expected: PgDashboard.Assembled,
  stored: Dashboard.DashboardDocument | undefined
): Array<Mismatch> => {
  const { customerId } = expected
  const out: Array<Mismatch> = []
  if (stored === undefined) {
    if (expected.accounts.length > 0 || expected.latestTransactions.length > 0) {
      out.push({
        customerId,
        document: "dashboard",
        what: "missing document",
        expected: expected.accounts.map((a) => a.id)
      })
    }
    return out
  }
  compareItems(customerId, "accounts", expected.accounts, stored.accounts, out)
  compareItems(customerId, "latestTransactions", expected.latestTransactions, stored.latestTransactions, out)
  const order = (items: ReadonlyArray<Item>) => items.map((i) => i.id).join(",")
  if (order(expected.latestTransactions) !== order(stored.latestTransactions)) {
    out.push({
      customerId,
      document: "dashboard",
      what: "latestTransactions order",
      expected: order(expected.latestTransactions),
      actual: order(stored.latestTransactions)
    })
  }
  if (canonical(expected.totals) !== canonical(stored.totals)) {
    out.push({ customerId, document: "dashboard", what: "totals", expected: expected.totals, actual: stored.totals })
  }
  return out
}

export interface ReconcileOptions {
  /** Customers per page (default 200). */
  readonly pageSize?: number
  /** Wait before checking a differing customer again (default 2000 ms; 0: no second look). */
  readonly recheckAfterMs?: number
  readonly latest?: number
  /** Called after each page with the customers checked so far. */
  readonly onProgress?: (checked: number) => void
  /** The generation checked (default: the one readers use). */
  readonly generation?: number
}

export interface Report {
  readonly checked: number
  readonly mismatches: ReadonlyArray<Mismatch>
}

type Services = Database.Database | DocumentStore.DocumentStore | Redis | RedisTopology.RedisTopology

const checkCustomers = (customerIds: ReadonlyArray<string>, latest: number | undefined, generation: number) =>
  Effect.gen(function* () {
    const store = yield* DocumentStore.DocumentStore
    const expected = yield* PgDashboard.assembleMany(customerIds, latest === undefined ? {} : { latest })
    const found = yield* Effect.forEach(customerIds, (id) => store.getRaw(documentKey(id, generation)), {
      concurrency: 32
    })
    return customerIds.flatMap((id, i) => {
      const raw = found[i]!
      return compare(
        expected.get(id)!,
        Option.isSome(raw) ? (JSON.parse(raw.value) as Dashboard.DashboardDocument) : undefined
      )
    })
  })

// Dashboards whose customer is gone from the master (every master's keys on a cluster).
const orphans = (generation: number) =>
  Effect.gen(function* () {
    const db = yield* Database.Database
    const ids: Array<string> = []
    yield* RedisTopology.scanKeys(ReadModel.documentPattern(readModel, generation), (keys) =>
      Effect.sync(() => {
        for (const key of keys) ids.push(key.slice(3, key.indexOf("}")))
      })
    )
    if (ids.length === 0) return []
    const known = yield* db.query<{ id: string }>(
      "SELECT customer_id::text AS id FROM customer.customers WHERE customer_id::text = ANY($1)",
      [ids]
    )
    const present = new Set(known.map((r) => r.id))
    return ids
      .filter((id) => !present.has(id))
      .map(
        (customerId): Mismatch => ({ customerId, document: "dashboard", what: "customer not in the customer master" })
      )
  })

/** Compares every dashboard with the systems of record. */
export const reconcile = (
  options: ReconcileOptions = {}
): Effect.Effect<Report, DatabaseError | DocumentStore.DocumentStoreError | RedisError, Services> =>
  Effect.gen(function* () {
    const db = yield* Database.Database
    const pageSize = options.pageSize ?? 200
    const generation = options.generation ?? (yield* ReadModel.generation(readModel))
    let after = "0"
    let checked = 0
    const differing = new Set<string>()
    while (true) {
      const page = yield* db.query<{ id: string }>(
        "SELECT customer_id::text AS id FROM customer.customers WHERE customer_id > $1::bigint ORDER BY customer_id LIMIT $2",
        [after, pageSize]
      )
      if (page.length === 0) break
      const ids = page.map((r) => r.id)
      for (const m of yield* checkCustomers(ids, options.latest, generation)) differing.add(m.customerId)
      checked += ids.length
      after = ids.at(-1)!
      options.onProgress?.(checked)
    }
    let mismatches: Array<Mismatch> = []
    if (differing.size > 0) {
      if ((options.recheckAfterMs ?? 2000) > 0) yield* Effect.sleep(options.recheckAfterMs ?? 2000)
      mismatches = yield* checkCustomers([...differing], options.latest, generation)
    }
    return { checked, mismatches: [...mismatches, ...(yield* orphans(generation))] }
  }).pipe(Effect.withSpan("Reconcile.dashboards"))
