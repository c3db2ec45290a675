// The dashboard projector: consumer group `dashboard` on the CDC streams of the product systems
// (deposits, cards, lending, investments), in the consumer engine's partition-owned mode
// (platform OwnedPartitions.ts): each partition is consumed by one live projector process at a
// time, whole database transactions assembled per partition (TransactionAssembler.ts), so more
// processes share the partitions and a dead one's are taken over. It writes each customer's
// dashboard document (Keys.customer(id).document("dashboard")) and announces every write on
// `dashboard.changes`.
//
// A batch's units are grouped by customer; each customer's are applied in one read-modify-write:
// read the document, apply the units in memory (Dashboard.applyUnits: positions drop
// redeliveries), write it back in one DocumentStore.apply guarded twice — the revision read
// (a compare-and-set: the four streams' consumers write the same documents) and the stream's
// position (nothing older than what the document reflects is ever written). A lost race reads
// again. So one database transaction becomes visible at once, and a redelivery or a replay
// changes nothing.
//
// Each customer's write runs under a span `DashboardProjector.apply` whose parent is the trace
// of the newest transaction applied (its CDC entry's traceparent: the connector's span), and
// the DashboardChanged announcement carries that trace on to the edge's live feed, so a
// transfer is one trace from the POST to the SSE push (test/traces.e2e.test.ts).
//
// The documents have generations (platform ReadModel.ts): generation N > 1 is written under
// `...:doc:dashboard:g<N>` by consumer group `dashboard.g<N>`. A projector process follows the
// pointer (`layerConfig`), so scripts/rebuild.ts can build a new generation beside the one read
// and switch readers and projectors over to it without downtime.
import { Cdc } from "@bank/contracts"
import type { Readiness } from "@bank/platform"
import { DocumentStore, OwnedPartitions, ReadModel, StreamLog, Tracing } from "@bank/platform"
import { Cause, Config, Effect, Layer, Metric, Option, Schedule, Schema } from "effect"
import * as Dashboard from "./Dashboard.ts"
import { changes } from "./DashboardChanges.ts"
import * as TransactionAssembler from "./TransactionAssembler.ts"
import type { CustomerUnit } from "./TransactionAssembler.ts"

/** The read model's name: its generation pointer and document kind. */
export const readModel = "dashboard"

export const group = "dashboard"

/** A customer's dashboard in `generation` (1, the default, keeps the key from before generations). */
export const documentKey = (customerId: string, generation = 1): string =>
  ReadModel.documentKey(readModel, generation, customerId)

/** The consumer group of `generation` on every product stream. */
export const groupOf = (generation: number): string => ReadModel.groupOf(group, generation)

/** Someone else kept winning the compare-and-set (it should take two writers a few rounds at most). */
export class ProjectionConflict extends Schema.TaggedError<ProjectionConflict>()("ProjectionConflict", {
  customerId: Schema.String,
  attempts: Schema.Number
}) {}

export interface ProjectorOptions {
  /** Transactions kept in the document (default 20). */
  readonly latest?: number
  /** Entries per read (default 500). */
  readonly batchSize?: number
  /** How long a partition stays owned by a process that stopped renewing it (default 15 s). */
  readonly ownershipMs?: number
  /** Customers written at once within a batch (default 32). */
  readonly concurrency?: number
  readonly systems?: ReadonlyArray<Dashboard.System>
  /** Partitions of each CDC stream (default CDC_PARTITIONS, 4). */
  readonly partitions?: number
  /** Consumer name (the same on every stream); default `<group>-<host>-<pid>-<random>`. */
  readonly consumer?: string
  /** Documents kept in memory between writes (default 5,000; 0: read every time). */
  readonly cacheSize?: number
  /** The generation written (default 1). */
  readonly generation?: number
  /** Whether a write is announced on `dashboard.changes` (default yes): a rebuild's is not until readers use it. */
  readonly announce?: () => boolean
  /** Units at or before this position (Positions.encode) are dropped: a rebuild's snapshot holds them. */
  readonly skipThrough?: string
}

/**
 * The documents this process wrote last, so a busy customer's next write skips the read. Safe
 * because every write is a compare-and-set on the revision: if anyone else wrote meanwhile, the
 * write is Stale, the entry is dropped and the document read again.
 */
export const makeCache = (size: number) => {
  const entries = new Map<string, Dashboard.DashboardDocument>()
  return {
    get: (customerId: string) => {
      const doc = entries.get(customerId)
      if (doc !== undefined) {
        entries.delete(customerId)
        entries.set(customerId, doc)
      }
      return doc
    },
    set: (customerId: string, doc: Dashboard.DashboardDocument) => {
      if (size <= 0) return
      entries.delete(customerId)
      entries.set(customerId, doc)
      if (entries.size > size) entries.delete(entries.keys().next().value!)
    },
    delete: (customerId: string) => void entries.delete(customerId),
    clear: () => entries.clear()
  }
}
export type Cache = ReturnType<typeof makeCache>

const MAX_ATTEMPTS = 20

/**
 * Commit in PostgreSQL to the dashboard document written, per database transaction (snapshot
 * copies excluded: their commit time is the copy's), on the projector's /metrics. The freshness
 * SLO alert reads it (docs/operations.md).
 */
export const freshness = Metric.histogram("dashboard_freshness_seconds", {
  description: "Seconds from a transaction's commit in PostgreSQL to the dashboard document that shows it.",
  boundaries: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
})

const observeFreshness = (units: ReadonlyArray<Dashboard.Unit>) =>
  Effect.forEach(
    units,
    (unit) => {
      const committed = Date.parse(unit.commitTime)
      if (Number.isNaN(committed) || unit.rows.some((row) => row.op === "snapshot")) return Effect.void
      return Metric.update(freshness, Math.max(0, Date.now() - committed) / 1000)
    },
    { discard: true }
  )

/** Applies one customer's units of `system` to their document (a span per call, no call-site stack: Tracing.fnSpan). */
export const applyCustomer = Tracing.fnSpan("DashboardProjector.applyCustomer")(
  Effect.fnUntraced(function* (
    system: Dashboard.System,
    customerId: string,
    units: ReadonlyArray<Dashboard.Unit>,
    latest: number = Dashboard.defaultLatest,
    cache?: Cache,
    target: Pick<ProjectorOptions, "generation" | "announce"> = {}
  ) {
    const store = yield* DocumentStore.DocumentStore
    const key = documentKey(customerId, target.generation)
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      let current = attempt === 1 ? cache?.get(customerId) : undefined
      if (current === undefined) {
        const raw = yield* store.getRaw(key)
        current = Option.isSome(raw) ? (JSON.parse(raw.value) as Dashboard.DashboardDocument) : undefined
      }
      const result = Dashboard.applyUnits(current, customerId, system, units, { latest })
      if (result.applied === 0) return result.document
      const outcome = yield* store.apply(key, [
        DocumentStore.Op.guard("$.revision", result.document.revision),
        DocumentStore.Op.guard(`$.sources.${system}.position`, result.firstPosition!),
        DocumentStore.Op.set("$", result.document as unknown as DocumentStore.Json)
      ])
      if (outcome._tag !== "Applied") {
        cache?.delete(customerId)
        continue
      }
      cache?.set(customerId, result.document)
      yield* observeFreshness(units)
      if (target.announce && !target.announce()) return result.document
      const log = yield* StreamLog.StreamLog
      const { revision, asOf } = result.document
      yield* log.publish(changes, {
        key: customerId,
        payload: {
          _tag: "DashboardChanged",
          customerId,
          revision,
          system,
          position: result.document.sources[system]!.position,
          asOf
        }
      })
      return result.document
    }
    return yield* new ProjectionConflict({ customerId, attempts: MAX_ATTEMPTS })
  })
)

// Redis being away is worth retrying the whole batch (the engine does); anything else is this
// customer's problem alone: logged (reconciliation will show it) so the stream moves on.
const retryable = (cause: Cause.Cause<unknown>): boolean => {
  const error = Cause.findErrorOption(cause)
  if (Option.isNone(error)) return false
  const e = error.value as { _tag?: string; reason?: string }
  return (e._tag === "DocumentStoreError" || e._tag === "PublishError") && e.reason === "Unavailable"
}

/** Applies a batch of one stream's units, customers in parallel, each customer's in order. */
export const applyBatch = (
  system: Dashboard.System,
  units: ReadonlyArray<CustomerUnit>,
  options: ProjectorOptions = {},
  cache?: Cache
) => {
  const byCustomer = new Map<string, Array<Dashboard.Unit>>()
  for (const { customerId, unit } of units) {
    if (options.skipThrough !== undefined && unit.position <= options.skipThrough) continue
    const list = byCustomer.get(customerId) ?? []
    list.push(unit)
    byCustomer.set(customerId, list)
  }
  return Effect.forEach(
    byCustomer,
    ([customerId, list]) =>
      applyCustomer(system, customerId, list, options.latest, cache, options).pipe(
        Effect.withSpan(
          "DashboardProjector.apply",
          {
            parent: Tracing.parentOf(list.findLast((unit) => unit.traceparent !== undefined)?.traceparent),
            attributes: { "bank.customer_id": customerId, "bank.system": system, units: list.length }
          },
          // Per document on the hot path: no call-site stack (see Tracing.fnSpan).
          { captureStackTrace: false }
        ),
        Effect.asVoid,
        Effect.catchCause((cause) =>
          retryable(cause) || Cause.hasInterruptsOnly(cause)
            ? Effect.failCause(cause)
            : Effect.logError("dashboard not updated for a customer", cause).pipe(
                Effect.annotateLogs({ customerId, system, position: list.at(-1)?.position })
              )
        )
      ),
    { concurrency: options.concurrency ?? 32, discard: true }
  )
}

/** The partitions (streams) the projector consumes, and the system of each. */
export const partitions = (count: number, systems: ReadonlyArray<Dashboard.System> = Dashboard.systems) =>
  systems.flatMap((system) => Cdc.streams(system, count).map((spec) => ({ spec, system })))

/** Applies the units each partition completes, whole transactions only; acknowledges what they used. */
const partitionHandler = (
  system: Dashboard.System,
  options: ProjectorOptions,
  cache: Cache
): OwnedPartitions.PartitionHandler<Cdc.CdcMessage, unknown, DocumentStore.DocumentStore | StreamLog.StreamLog> => {
  const assembler = TransactionAssembler.make()
  return {
    handle: (entries) =>
      Effect.gen(function* () {
        // A new snapshot means Redis may have lost its documents: a cached document could then
        // pass the revision compare-and-set (a missing revision passes) and bring old content
        // back, so every process forgets its cache before it applies anything of the snapshot.
        if (entries.some((e) => e.payload._tag === "SnapshotStarted")) cache.clear()
        const assembled = assembler.feed(
          entries.map((e) => ({ entryId: e.entryId, payload: e.payload, traceparent: e.trace.traceparent }))
        )
        for (const warning of assembled.warnings)
          yield* Effect.logWarning(warning).pipe(Effect.annotateLogs({ system }))
        // Redis being away: the same units again, a few times, before the partition starts over.
        if (assembled.units.length > 0) {
          yield* applyBatch(system, assembled.units, options, cache).pipe(
            Effect.retry({ schedule: Schedule.exponential("100 millis"), times: 6 })
          )
        }
        return assembled.ack
      })
  }
}

/** Runs the projector in the current scope: this process's share of the partitions. */
export const run = (options: ProjectorOptions = {}) =>
  Effect.gen(function* () {
    // One cache for every partition: they write the same documents.
    const cache = makeCache(options.cacheSize ?? 5000)
    const owned = partitions(options.partitions ?? (yield* Cdc.partitionsConfig), options.systems)
    const systemOf = new Map(owned.map(({ spec, system }) => [spec.name, system]))
    return yield* OwnedPartitions.run({
      group: groupOf(options.generation ?? 1),
      streams: owned.map(({ spec }) => spec),
      open: (spec) => partitionHandler(systemOf.get(spec.name)!, options, cache),
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.ownershipMs !== undefined ? { ownershipMs: options.ownershipMs } : {}),
      ...(options.consumer !== undefined ? { consumer: options.consumer } : {})
    })
  })

export const layer = (options: ProjectorOptions = {}) => Layer.effectDiscard(run(options))

/**
 * The projector of the generation readers use, following the pointer (needs ReadModel).
 * DASHBOARD_LATEST_TRANSACTIONS (20), DASHBOARD_BATCH_SIZE (500), DASHBOARD_OWNERSHIP_MS (15000).
 */
export const layerConfig = Layer.effectDiscard(
  Effect.gen(function* () {
    const options = yield* Config.all({
      latest: Config.Int("DASHBOARD_LATEST_TRANSACTIONS").pipe(Config.withDefault(Dashboard.defaultLatest)),
      batchSize: Config.Int("DASHBOARD_BATCH_SIZE").pipe(Config.withDefault(500)),
      ownershipMs: Config.Int("DASHBOARD_OWNERSHIP_MS").pipe(Config.withDefault(15_000))
    })
    yield* ReadModel.follow(readModel, (generation) => Effect.asVoid(run({ ...options, generation })))
  })
)

/** For readiness: the generation readers use, loaded once its group applied every product stream. */
export const readModelSource: Readiness.ReadModelSource = {
  name: readModel,
  groups: Effect.gen(function* () {
    const generation = yield* ReadModel.generation(readModel)
    return partitions(yield* Cdc.partitionCount).map(({ spec }) => ({ stream: spec.name, group: groupOf(generation) }))
  }),
  fedByCdc: true
}
