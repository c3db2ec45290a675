// The profile projector: consumer group `profile` on the CDC streams of the customer master,
// the CRM and the four product systems, one actor (the consumer engine's shared mode) per
// stream partition, each row change written to the
// customer's profile document (Keys.customer(id).document("profile")) in one guarded
// DocumentStore.apply: nothing happens unless the change is newer than what the document holds
// for that row (Profile.ts). Rows are independent facts here, so unlike the dashboard no
// transaction has to be held back, and the platform's actors (several consumers per group,
// stale entries claimed by others) serve as they are.
import { Cdc } from "@bank/contracts"
import { Actor, DocumentStore, Keys, ReadModel } from "@bank/platform"
import type { Envelope, Readiness } from "@bank/platform"
import { Effect, Layer } from "effect"
import { encodePosition, pathText, rowPaths } from "./Profile.ts"

export const group = "profile"
export const systems = ["customer", "crm", "deposits", "cards", "lending", "investments"] as const

/** The read model's name: its generation pointer and document kind. */
export const readModel = "profile"

/** A customer's profile in `generation` (1, the default, keeps the key from before generations). */
export const documentKey = (customerId: string, generation = 1): string =>
  ReadModel.documentKey(readModel, generation, customerId)

/** The consumer group of `generation` on every stream partition. */
export const groupOf = (generation: number): string => ReadModel.groupOf(group, generation)

/** Where the profile writer records the outcome of the customer's last change request: beside the document, never in it, so the document is CDC's alone and can be rebuilt. */
export const lastUpdateKey = (customerId: string): string => Keys.customer(customerId).key("profile-last-update")

/** The guarded write of one row change; undefined for rows the profile does not hold. */
export const opsOf = (
  row: Cdc.RowChanged
): { readonly customerId: string; readonly ops: ReadonlyArray<DocumentStore.Op> } | undefined => {
  if (row.op === "truncate") return undefined
  const values = row.op === "delete" ? { ...row.key, ...row.old } : row.new
  const customerId = values?.customer_id ?? row.key.customer_id
  if (values === undefined || customerId == null) return undefined
  const paths = rowPaths(row.schema, row.table, values)
  if (paths === undefined) return undefined
  const position = encodePosition(row)
  const source = pathText(["sources", paths.source])
  const { Op } = DocumentStore
  return {
    customerId,
    ops: [
      Op.guard(source, position),
      ...(row.op === "delete"
        ? paths.owns.map((path) => Op.delete(pathText(path)))
        : paths.sets.map(([path, value]) => Op.set(pathText(path), value))),
      Op.set(source, position),
      Op.set("$.customerId", customerId),
      Op.set("$.asOf", row.commitTime)
    ]
  }
}

/** Applies one row change to `generation`'s document. */
export const applyTo = (generation: number) => (row: Cdc.RowChanged) => applyRow(row, generation)

/** Applies one row change to the document of generation 1. */
export const apply = (row: Cdc.RowChanged) => applyRow(row, 1)

const applyRow = Effect.fn("ProfileProjector.apply")(function* (row: Cdc.RowChanged, generation: number) {
  const write = opsOf(row)
  if (write === undefined) {
    if (row.op === "truncate")
      yield* Effect.logWarning("table truncated: profiles keep its rows until a rebuild", {
        table: `${row.schema}.${row.table}`
      })
    return
  }
  const store = yield* DocumentStore.DocumentStore
  yield* store.apply(documentKey(write.customerId, generation), write.ops)
})

const handle = (generation: number) => (message: Envelope.Delivered<Cdc.CdcMessage>) =>
  message.payload._tag === "RowChanged" ? applyRow(message.payload, generation) : Effect.void

/**
 * One actor per stream partition in the current scope, writing `generation` (default 1;
 * partitions: default CDC_PARTITIONS).
 */
export const run = (
  options: { readonly concurrency?: number; readonly partitions?: number; readonly generation?: number } = {}
) =>
  Effect.gen(function* () {
    const partitions = options.partitions ?? (yield* Cdc.partitionsConfig)
    const generation = options.generation ?? 1
    yield* Effect.forEach(
      systems.flatMap((system) => Cdc.streams(system, partitions)),
      (stream) =>
        Actor.run({
          group: groupOf(generation),
          stream,
          handle: handle(generation),
          concurrency: options.concurrency ?? 16
        }),
      { discard: true }
    )
  })

/** Generation 1 only (tests and stacks without rebuilds). */
export const layer = Layer.effectDiscard(run())

/** The projector of the generation readers use, following the pointer as a rebuild moves it (needs ReadModel). */
export const layerFollowing = Layer.effectDiscard(ReadModel.follow(readModel, (generation) => run({ generation })))

/** For readiness: profiles are loaded once this group has applied every system's snapshot. */
export const readModelSource: Readiness.ReadModelSource = {
  name: "profile",
  groups: Effect.gen(function* () {
    const generation = yield* ReadModel.generation(readModel)
    const partitions = yield* Cdc.partitionCount
    return systems
      .flatMap((system) => Cdc.streams(system, partitions))
      .map((stream) => ({ stream: stream.name, group: groupOf(generation) }))
  }),
  fedByCdc: true
}
