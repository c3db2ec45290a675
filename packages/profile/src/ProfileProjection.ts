// The profile read model as a value (platform Projection.ts): built from the customer master,
// the CRM and the product systems, one document per customer, each source row guarded by its own
// position (so shared-mode consumers in any order, redeliveries and a rebuild's tail are all
// safe). Rebuild and replay (@bank/cdc) take it; the rules stay in Profile.ts. Rebuildable
// because the document holds only what CDC brings: the writer's request outcome is kept beside
// it (ProfileProjector.lastUpdateKey).
import type { Cdc } from "@bank/contracts"
import { DocumentStore, type Projection, Retention, type StreamLog } from "@bank/platform"
import { Cdc as CdcContract } from "@bank/contracts"
import { Effect } from "effect"
import type { Redis } from "effect/persistence/Redis"
import * as ProfileProjector from "./ProfileProjector.ts"
import * as Reconcile from "./Reconcile.ts"

export type Services = Redis | DocumentStore.DocumentStore | StreamLog.StreamLog

const customerOf = (row: Cdc.RowChanged): string | undefined => ProfileProjector.opsOf(row)?.customerId

const documents = (generation: number, customerIds: ReadonlyArray<string>) =>
  Effect.forEach(
    customerIds,
    (id) => DocumentStore.DocumentStore.use((store) => store.getRaw(ProfileProjector.documentKey(id, generation))),
    { concurrency: 32 }
  )

export const projection: Projection.Rebuildable<Cdc.RowChanged, Cdc.CdcMessage, Services> = {
  rebuild: "from-snapshot",
  name: ProfileProjector.readModel,
  sources: ProfileProjector.systems,
  group: ProfileProjector.groupOf,
  documentKey: ProfileProjector.documentKey,
  guard: "row-position",
  keys: (generation, partitions) =>
    ProfileProjector.systems
      .flatMap((system) => CdcContract.streams(system, partitions))
      .map((stream) => Retention.lostKey(stream.name, ProfileProjector.groupOf(generation))),
  applySnapshot: (generation, _system, rows) =>
    Effect.forEach(rows, ProfileProjector.applyTo(generation), { concurrency: 32, discard: true }),
  // Changes committed before a rebuild's snapshot are older than its rows: the row guards drop them.
  run: (generation, { partitions }) =>
    ProfileProjector.run({ generation, ...(partitions !== undefined ? { partitions } : {}) }),
  replayer: (generation) => ({
    feed: (entries) =>
      Effect.gen(function* () {
        const rows = entries.flatMap((e) => (e.payload._tag === "RowChanged" ? [e.payload] : []))
        const customers = [...new Set(rows.map(customerOf).filter((c): c is string => c !== undefined))]
        const before = yield* documents(generation, customers)
        yield* Effect.forEach(rows, ProfileProjector.applyTo(generation), { discard: true })
        const after = yield* documents(generation, customers)
        return {
          units: rows.length,
          changed: customers.filter((_, i) => JSON.stringify(before[i]) !== JSON.stringify(after[i])).length,
          warnings: []
        }
      }),
    unfinished: () => 0
  }),
  reconcile: (options) => Reconcile.reconcile(options)
}
