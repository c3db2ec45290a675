// Appends CDC entries to the system streams' partitions (`cdc.<system>.p<n>`, Cdc.ts) in
// batches: each batch is one MULTI/EXEC per stream partition (all of a stream's entries of the batch or none: MULTI keeps one stream's keys in
// one slot, so this holds on Redis Cluster too), and the streams' transactions go out
// together in one pipeline. A batch is acknowledged only when every EXEC answered.
//
// Because each stream is only ever extended by whole batches in position order, what a stream
// holds is always a prefix of what the connector produced. After a crash the connector reads
// each stream's last position and skips what is already there (`skipWritten`), so a restart
// usually adds no duplicate at all; consumers still drop any with `Cdc.isNewer`.
//
// A change that belongs to a trace (its `traceparent`, taken from its transaction's rows by
// Translator.ts) is written under a span `CdcConnector.publish` whose parent is that trace's
// span (the booking), one per trace in a batch, lasting until Redis acknowledged the batch;
// its envelope's traceparent names that span, so the consumers continue the same trace.
import { Cdc } from "@bank/contracts"
import { Envelope, Keys, RedisTopology, Tracing } from "@bank/platform"
import type { RawEntry, StreamSpec } from "@bank/platform"
import { Effect, type Tracer } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as CdcError from "./CdcError.ts"
import type { Outgoing } from "./Translator.ts"

export interface WriterOptions {
  readonly systems: ReadonlyArray<string>
  /** P of the system streams (Cdc.partitionsConfig). */
  readonly partitions: number
  /** The retention cap of each stream (Cdc spec; trimming itself is platform Retention.ts, never XADD's). */
  readonly maxLen: number
}

export const make = Effect.fn("StreamWriter.make")(function* (options: WriterOptions) {
  const topology = yield* RedisTopology.RedisTopology
  const redis = yield* Redis
  const specs = new Map<
    string,
    {
      spec: StreamSpec.StreamSpec<Cdc.CdcMessage>
      key: string
      encode: (envelope: Envelope.Envelope<Cdc.CdcMessage>) => Array<string>
    }
  >()
  const streamOf = (system: string, partition: number) => {
    const id = `${system}#${partition}`
    let stream = specs.get(id)
    if (!stream) {
      const spec = Cdc.partition(system, partition, { maxLen: options.maxLen })
      // CDC payloads are plain JSON by construction (rows of strings): JSON.stringify, not the
      // schema's encoding (StreamWriter.test.ts checks both write the same).
      stream = { spec, key: Keys.stream(spec.name), encode: Envelope.plainJsonEncoder(spec) }
      specs.set(id, stream)
    }
    return stream
  }

  /**
   * Appends `entries` (in order); resolves once Redis acknowledged all of them, and with
   * `replicas` > 0 once that many replicas of each stream's master hold them too (or the
   * timeout passed): with the fewest replicas that acknowledged.
   */
  const write = (
    entries: ReadonlyArray<Outgoing>,
    durability: { readonly replicas: number; readonly timeoutMs: number } = { replicas: 0, timeoutMs: 0 }
  ) =>
    Effect.gen(function* () {
      if (entries.length === 0) return Number.POSITIVE_INFINITY
      // One connector span per trace in the batch, ended with the batch (its scope).
      const spans = new Map<string, Tracer.Span>()
      for (const { traceparent } of entries) {
        if (traceparent === undefined || spans.has(traceparent)) continue
        const parent = Tracing.parentOf(traceparent)
        if (parent === undefined) continue
        spans.set(
          traceparent,
          yield* Effect.makeSpanScoped("CdcConnector.publish", {
            parent,
            kind: "producer",
            attributes: { "messaging.system": "redis", entries: entries.length }
          })
        )
      }
      const byStream = new Map<string, { key: string; commands: Array<ReadonlyArray<string>> }>()
      for (const entry of entries) {
        const stream = streamOf(entry.system, entry.partition)
        const envelope = Envelope.make(stream.spec, { key: entry.key, payload: entry.payload })
        const span = entry.traceparent === undefined ? undefined : spans.get(entry.traceparent)
        const trace = span === undefined ? undefined : Tracing.contextOf(span)
        const fields = stream.encode(trace === undefined ? envelope : { ...envelope, trace })
        const batch = byStream.get(stream.key) ?? { key: stream.key, commands: [] }
        batch.commands.push(["XADD", stream.key, "*", ...fields])
        byStream.set(stream.key, batch)
      }
      const acknowledged = yield* Effect.forEach(
        byStream.values(),
        ({ key, commands }) =>
          topology
            .transaction(key, commands)
            .pipe(
              Effect.andThen(
                durability.replicas > 0
                  ? topology.waitForReplicas(key, durability.replicas, durability.timeoutMs)
                  : Effect.succeed(Number.POSITIVE_INFINITY)
              )
            ),
        { concurrency: "unbounded" }
      ).pipe(Effect.mapError(CdcError.redis("appending to the CDC streams")))
      return Math.min(...acknowledged)
    }).pipe(Effect.scoped, Effect.withSpan("StreamWriter.write", { attributes: { entries: entries.length } }))

  /** The position of the newest entry of each stream partition, by stream name (none when empty). */
  const lastPositions = Effect.gen(function* () {
    const positions = new Map<string, Cdc.Position>()
    for (const { spec } of options.systems.flatMap((system) =>
      Cdc.streams(system, options.partitions).map((_, p) => streamOf(system, p))
    )) {
      const [last] = yield* redis
        .send<Array<RawEntry>>("XREVRANGE", Keys.stream(spec.name), "+", "-", "COUNT", "1")
        .pipe(Effect.mapError(CdcError.redis("reading the last CDC entry")))
      if (!last) continue
      const decoded = yield* Effect.result(Envelope.decode(spec, last[0], last[1], 0))
      if (decoded._tag === "Success") {
        positions.set(spec.name, { commitLsn: decoded.success.payload.commitLsn, seq: decoded.success.payload.seq })
      } else {
        yield* Effect.logWarning("last CDC entry unreadable; not skipping on", {
          stream: spec.name,
          error: decoded.failure.message
        })
      }
    }
    return positions
  })

  return { write, lastPositions }
})

export type StreamWriter = Effect.Success<ReturnType<typeof make>>

/**
 * Drops entries already in their stream: those at or before the stream's last position (keyed
 * by stream name). Once an entry of a stream passes, that stream needs no more checks
 * (positions only grow).
 */
export const skipWritten =
  (written: Map<string, Cdc.Position>) =>
  (entries: ReadonlyArray<Outgoing>): ReadonlyArray<Outgoing> => {
    if (written.size === 0) return entries
    return entries.filter((entry) => {
      const name = Cdc.partition(entry.system, entry.partition).name
      const last = written.get(name)
      if (!last) return true
      if (Cdc.isNewer(entry.payload, last)) {
        written.delete(name)
        return true
      }
      return false
    })
  }
