// Reconciliation of the profiles with the systems of record: every customer of the customer
// master, page by page, the stored document against the one PgProfile assembles (the
// projector's bookkeeping aside). Customers that differ are checked again after
// `recheckAfterMs`, since a live system is always a little behind its database.
import { Database, type DatabaseError, DocumentStore, ReadModel } from "@bank/platform"
import type { Redis } from "effect/persistence/Redis"
import { Effect, Option } from "effect"
import * as PgProfile from "./PgProfile.ts"
import { content, type Json } from "./Profile.ts"
import { documentKey, readModel } from "./ProfileProjector.ts"

export interface Mismatch {
  readonly customerId: string
  readonly document: string
  readonly what: string
  readonly expected?: unknown
  readonly actual?: unknown
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        )
      : v
  )

/** What differs between a stored profile and the one assembled from PostgreSQL. Pure. */
export const compare = (
  customerId: string,
  expected: Record<string, Json> | undefined,
  stored: Record<string, unknown> | undefined
): Array<Mismatch> => {
  if (expected === undefined)
    return stored === undefined || stored.deleted === true
      ? []
      : [{ customerId, document: "profile", what: "customer not in the customer master" }]
  if (stored === undefined) return [{ customerId, document: "profile", what: "missing document" }]
  const want = content(expected)
  const have = content(stored)
  const out: Array<Mismatch> = []
  for (const field of new Set([...Object.keys(want), ...Object.keys(have)])) {
    if (canonical(want[field] ?? null) !== canonical(have[field] ?? null)) {
      out.push({
        customerId,
        document: "profile",
        what: field,
        expected: want[field] ?? null,
        actual: have[field] ?? null
      })
    }
  }
  return out
}

export interface ReconcileOptions {
  readonly pageSize?: number
  readonly recheckAfterMs?: number
  readonly onProgress?: (checked: number) => void
}

const check = (customerIds: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const store = yield* DocumentStore.DocumentStore
    const generation = yield* ReadModel.generation(readModel).pipe(Effect.orElseSucceed(() => 1))
    const expected = yield* PgProfile.assembleMany(customerIds)
    const stored = yield* Effect.forEach(customerIds, (id) => store.getRaw(documentKey(id, generation)), {
      concurrency: 32
    })
    return customerIds.flatMap((id, i) => {
      const raw = stored[i]!
      return compare(
        id,
        expected.get(id),
        Option.isSome(raw) ? (JSON.parse(raw.value) as Record<string, unknown>) : undefined
      )
    })
  })

/** Compares every profile with the systems of record. */
export const reconcile = (
  options: ReconcileOptions = {}
): Effect.Effect<
  { readonly checked: number; readonly mismatches: ReadonlyArray<Mismatch> },
  DatabaseError | DocumentStore.DocumentStoreError,
  Database.Database | DocumentStore.DocumentStore | Redis
> =>
  Effect.gen(function* () {
    const db = yield* Database.Database
    const pageSize = options.pageSize ?? 500
    let after = "0"
    let checked = 0
    const differing = new Set<string>()
    while (true) {
      const page = yield* db.query<{ id: string }>(
        "SELECT customer_id::text AS id FROM customer.customers WHERE customer_id > $1::bigint ORDER BY customer_id LIMIT $2",
        [after, pageSize]
      )
      if (page.length === 0) break
      for (const m of yield* check(page.map((r) => r.id))) differing.add(m.customerId)
      checked += page.length
      after = page.at(-1)!.id
      options.onProgress?.(checked)
    }
    if (differing.size === 0) return { checked, mismatches: [] }
    if ((options.recheckAfterMs ?? 2000) > 0) yield* Effect.sleep(options.recheckAfterMs ?? 2000)
    return { checked, mismatches: yield* check([...differing]) }
  }).pipe(Effect.withSpan("Reconcile.profiles"))
