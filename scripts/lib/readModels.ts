// The read models scripts/rebuild.ts and scripts/replay.ts can work on, each described by what
// they need of it: the CDC systems it is built from, its consumer group and per-generation keys,
// how it applies snapshot rows and stream entries, and how its projector runs for a generation.
// The projection rules stay in the capability; this only points at them.
//
// Only the dashboard is here. The profile is not rebuildable from CDC alone: ProfileWriter
// writes parts of the document that no system of record holds.
import type { Cdc } from "@bank/contracts"
import { Dashboard, DashboardProjector, Positions, TransactionAssembler } from "@bank/dashboard"
import { DocumentStore, Keys, Membership, Retention } from "@bank/platform"
import type { StreamLog } from "@bank/platform"
import { Effect, Option, type Scope } from "effect"
import type { Redis } from "effect/persistence/Redis"

export type Services = Redis | DocumentStore.DocumentStore | StreamLog.StreamLog

export interface ReplayCounts {
  /** Units (a database transaction of one customer, or a snapshot row) handed to the projection. */
  readonly units: number
  /** Documents whose content moved: zero when everything replayed was already there. */
  readonly changed: number
  /** What did not add up (a range cutting a transaction in two, a missing commit). */
  readonly warnings: ReadonlyArray<string>
}

/** Applies entries of one stream, page after page, in stream order; `finish` reports the rest. */
export interface Replayer {
  readonly feed: (entries: ReadonlyArray<TransactionAssembler.Entry>) => Effect.Effect<ReplayCounts, unknown, Services>
  /** Rows of transactions whose commit was not in the range: not applied. */
  readonly unfinished: () => number
}

export interface Rebuildable {
  readonly name: string
  /** The CDC systems (`cdc.<system>` streams) it is built from. */
  readonly systems: ReadonlyArray<string>
  /** Its consumer group on each of those streams, in `generation`. */
  readonly group: (generation: number) => string
  /** Keys of a generation besides documents and groups (partition leases, membership), with P partitions. */
  readonly keys: (generation: number, partitions: number) => ReadonlyArray<string>
  /** Writes one system's snapshot rows into `generation`, silently (readers do not use it yet). */
  readonly applySnapshot: (generation: number, system: string, rows: ReadonlyArray<Cdc.RowChanged>) => Effect.Effect<void, unknown, Services>
  /**
   * Runs the projector of `generation` in the current scope, dropping what the snapshot taken at
   * `snapshotLsn` holds; it announces its writes once `announce()` says readers use it.
   */
  readonly consume: (generation: number, options: { readonly snapshotLsn: string; readonly announce: () => boolean; readonly partitions: number }) => Effect.Effect<void, unknown, Services | Scope.Scope>
  readonly replayer: (generation: number, system: string) => Replayer
}

const systemOf = (system: string): Dashboard.System => {
  if (!Dashboard.isSystem(system)) throw new Error(`the dashboard is not built from ${system}`)
  return system
}

const revisions = (generation: number, customerIds: ReadonlyArray<string>) =>
  Effect.forEach(customerIds, (id) =>
    DocumentStore.DocumentStore.use((store) => store.getRaw(DashboardProjector.documentKey(id, generation), "$.revision")).pipe(
      Effect.map(Option.getOrUndefined)
    ), { concurrency: 32 })

export const dashboard: Rebuildable = {
  name: DashboardProjector.readModel,
  systems: Dashboard.systems,
  group: DashboardProjector.groupOf,
  keys: (generation, partitions) => [
    ...DashboardProjector.partitions(partitions).map(({ spec }) => Keys.streamLease(spec.name, DashboardProjector.groupOf(generation))),
    Membership.membersKey(DashboardProjector.groupOf(generation)),
    ...DashboardProjector.partitions(partitions).map(({ spec }) => Retention.lostKey(spec.name, DashboardProjector.groupOf(generation)))
  ],
  applySnapshot: (generation, system, rows) => {
    const { units } = TransactionAssembler.make().feed(rows.map((payload, i) => ({ entryId: String(i), payload })))
    return DashboardProjector.applyBatch(systemOf(system), units, { generation, announce: () => false })
  },
  consume: (generation, { snapshotLsn, announce, partitions }) =>
    DashboardProjector.run({ generation, announce, partitions, skipThrough: Positions.snapshotStart(snapshotLsn) }),
  replayer: (generation, system) => {
    const assembler = TransactionAssembler.make()
    return {
      feed: (entries) =>
        Effect.gen(function*() {
          const { units, warnings } = assembler.feed(entries)
          const customers = [...new Set(units.map((u) => u.customerId))]
          const before = yield* revisions(generation, customers)
          yield* DashboardProjector.applyBatch(systemOf(system), units, { generation })
          const after = yield* revisions(generation, customers)
          return { units: units.length, changed: customers.filter((_, i) => before[i] !== after[i]).length, warnings }
        }),
      unfinished: () => assembler.openRows
    }
  }
}

export const readModels: ReadonlyMap<string, Rebuildable> = new Map([[dashboard.name, dashboard]])
