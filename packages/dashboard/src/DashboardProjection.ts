// The dashboard read model as a value (platform Projection.ts): its sources, group, document
// key and guard, how snapshot rows and stream entries are applied, and its runner (the
// partition-owned DashboardProjector). Rebuild, replay (@bank/cdc) and the given/when/then
// helper (testing/Given.ts) take this value; the rules themselves stay in Dashboard.ts.
import type { Cdc } from "@bank/contracts"
import { DocumentStore, Keys, Membership, type Projection, Retention, type StreamLog } from "@bank/platform"
import { Effect, Option } from "effect"
import type { Redis } from "effect/persistence/Redis"
import * as Dashboard from "./Dashboard.ts"
import * as DashboardProjector from "./DashboardProjector.ts"
import * as Positions from "./Positions.ts"
import * as Reconcile from "./Reconcile.ts"
import * as TransactionAssembler from "./TransactionAssembler.ts"

export type Services = Redis | DocumentStore.DocumentStore | StreamLog.StreamLog

const systemOf = (system: string): Dashboard.System => {
  if (!Dashboard.isSystem(system)) throw new Error(`the dashboard is not built from ${system}`)
  return system
}

const revisions = (generation: number, customerIds: ReadonlyArray<string>) =>
  Effect.forEach(
    customerIds,
    (id) =>
      DocumentStore.DocumentStore.use((store) =>
        store.getRaw(DashboardProjector.documentKey(id, generation), "$.revision")
      ).pipe(Effect.map(Option.getOrUndefined)),
    { concurrency: 32 }
  )

export const projection: Projection.Rebuildable<Cdc.RowChanged, Cdc.CdcMessage, Services> = {
  rebuild: "from-snapshot",
  name: DashboardProjector.readModel,
  sources: Dashboard.systems,
  group: DashboardProjector.groupOf,
  documentKey: DashboardProjector.documentKey,
  guard: "positions+revision",
  keys: (generation, partitions) => {
    const group = DashboardProjector.groupOf(generation)
    const streams = DashboardProjector.partitions(partitions).map(({ spec }) => spec.name)
    return [
      ...streams.map((stream) => Keys.streamLease(stream, group)),
      Membership.membersKey(group),
      ...streams.map((stream) => Retention.lostKey(stream, group))
    ]
  },
  applySnapshot: (generation, system, rows) => {
    const { units } = TransactionAssembler.make().feed(rows.map((payload, i) => ({ entryId: String(i), payload })))
    return DashboardProjector.applyBatch(systemOf(system), units, { generation, announce: () => false })
  },
  run: (generation, { snapshotLsn, announce, partitions }) =>
    DashboardProjector.run({
      generation,
      ...(announce ? { announce } : {}),
      ...(partitions !== undefined ? { partitions } : {}),
      ...(snapshotLsn !== undefined ? { skipThrough: Positions.snapshotStart(snapshotLsn) } : {})
    }),
  replayer: (generation, system) => {
    const assembler = TransactionAssembler.make()
    return {
      feed: (entries) =>
        Effect.gen(function* () {
          const { units, warnings } = assembler.feed(entries)
          const customers = [...new Set(units.map((u) => u.customerId))]
          const before = yield* revisions(generation, customers)
          yield* DashboardProjector.applyBatch(systemOf(system), units, { generation })
          const after = yield* revisions(generation, customers)
          return { units: units.length, changed: customers.filter((_, i) => before[i] !== after[i]).length, warnings }
        }),
      unfinished: () => assembler.openRows
    }
  },
  reconcile: (options) => Reconcile.reconcile(options)
}
