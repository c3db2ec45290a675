// The reference data as a Projection value (platform Projection.ts): a read model of PostgreSQL's
// ref.* tables (ReferenceData.ts), fed by `cdc.ref`, with generations, so
// `scripts/rebuild.ts reference-data` builds generation N+1 beside the N readers use and switches
// the pointer while N serves. Each data set is one body computed by a query over several ref
// tables (the catalogue joins the currencies), so a rebuild's snapshot pages say which data sets
// exist and each is loaded into N+1 from PostgreSQL, at or after the snapshot; the tail then
// invalidates and reloads on every later change, as the live actor does. Its guard is the data
// set's invalidation counter: a load stores only when no change arrived since it began
// (storeReference.lua), and a redelivered change costs one reload. Readers never miss: a body
// that is not there (yet) is read from PostgreSQL and stored.
//
// The transaction windows (TransactionCache.ts) are a Projection value that is not rebuildable
// (PrefetchActor.windows): they are a cache, made at a login with a time limit and answered from
// PostgreSQL on a miss, so dropping them is a correct "rebuild" (the next login or the fallback
// fills them) and there is nothing to replay.
import { Cdc } from "@bank/contracts"
import { type Database, type Projection, ReadModel, Retention, type StreamLog } from "@bank/platform"
import { Effect } from "effect"
import type { Redis } from "effect/persistence/Redis"
import * as PrefetchActor from "./PrefetchActor.ts"
import * as ReferenceData from "./ReferenceData.ts"

export const stream = Cdc.stream("ref")

/** The group of `generation` on `cdc.ref`: `prefetch` for 1, `prefetch.g<N>` after. */
export const groupOf = (generation: number): string => ReadModel.groupOf(PrefetchActor.GROUP, generation)

export type Services = Redis | Database.Database | StreamLog.StreamLog

const setsOf = (rows: ReadonlyArray<Cdc.RowChanged>) => [
  ...new Set(rows.flatMap((row) => (row.schema === "ref" ? ReferenceData.dataSetsOf(row.table) : [])))
]

/** Compares each cached body readers use with what PostgreSQL answers now; a missing body is no mismatch (readers load it). */
const reconcile = (options: { readonly recheckAfterMs?: number; readonly onProgress?: (checked: number) => void }) =>
  Effect.gen(function* () {
    const differing = Effect.gen(function* () {
      const generation = yield* ReferenceData.currentGeneration
      const out: Array<{ name: ReferenceData.DataSet; expected: unknown; actual: unknown }> = []
      for (const name of ReferenceData.allDataSets) {
        const cached = yield* ReferenceData.cached(name, generation)
        if (cached === null) continue
        const expected = yield* ReferenceData.fromDatabase(name)
        if (cached !== expected) out.push({ name, expected: JSON.parse(expected), actual: JSON.parse(cached) })
      }
      return out
    })
    let found = yield* differing
    if (found.length > 0 && (options.recheckAfterMs ?? 0) > 0) {
      yield* Effect.sleep(options.recheckAfterMs!)
      found = yield* differing
    }
    options.onProgress?.(ReferenceData.allDataSets.length)
    return {
      checked: ReferenceData.allDataSets.length,
      mismatches: found.map((m) => ({
        customerId: "-",
        document: ReferenceData.keyOf(m.name),
        what: `reference data set ${m.name} differs from PostgreSQL`,
        expected: m.expected,
        actual: m.actual
      }))
    }
  })

export const projection: Projection.Rebuildable<Cdc.RowChanged, Cdc.CdcMessage, Services> = {
  rebuild: "from-snapshot",
  name: ReferenceData.readModel,
  sources: ["ref"],
  group: groupOf,
  /** Not per customer: the "document" of a data set (its name) in `generation`. */
  documentKey: (dataSet: string, generation: number) =>
    ReferenceData.keyOf(dataSet as ReferenceData.DataSet, generation),
  guard: "invalidate+reload",
  keys: (generation) => [Retention.lostKey(stream.name, groupOf(generation))],
  patterns: ReferenceData.keysOf,
  applySnapshot: (generation, _system, rows) =>
    Effect.forEach(setsOf(rows), (name) => ReferenceData.warm(name, generation), { discard: true }),
  // A change committed before the snapshot reloads a set once more: harmless, so no LSN filter.
  run: (generation) => PrefetchActor.runReference(generation),
  replayer: (generation) => ({
    feed: (entries) =>
      Effect.gen(function* () {
        const rows = entries.flatMap((e) => (e.payload._tag === "RowChanged" ? [e.payload] : []))
        const sets = setsOf(rows)
        const before = yield* Effect.forEach(sets, (name) => ReferenceData.cached(name, generation))
        for (const name of sets) {
          yield* ReferenceData.invalidate(name, generation)
          yield* ReferenceData.warm(name, generation)
        }
        const after = yield* Effect.forEach(sets, (name) => ReferenceData.cached(name, generation))
        return { units: rows.length, changed: sets.filter((_, i) => before[i] !== after[i]).length, warnings: [] }
      }),
    unfinished: () => 0
  }),
  reconcile
}
