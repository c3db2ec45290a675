// Appending to and reading back the project's Redis Streams. Publishing trims each stream by
// its spec's retention (approximate MAXLEN or MINID, cheap for Redis); reading a range is
// what replay scripts use. Consuming with consumer groups lives in Actor.ts.
import { Context, Effect, Layer, Option, Schema, Stream } from "effect"
import { Redis, RedisError } from "effect/persistence/Redis"
import * as Envelope from "./Envelope.ts"
import * as Keys from "./Keys.ts"
import * as Tracing from "./Tracing.ts"
import { type AnyMessage, defaultRetention, type StreamSpec } from "./StreamSpec.ts"

export class PublishError extends Schema.TaggedError<PublishError>()("PublishError", {
  stream: Schema.String,
  reason: Schema.Literals(["Unavailable", "InvalidMessage"]),
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/** One XRANGE/XREADGROUP entry as node-redis returns it in RESP2: [id, [field, value, ...]]. */
export type RawEntry = readonly [string, ReadonlyArray<string>]

export interface ReadOptions {
  /** First entry id to read (inclusive); "-" for the oldest. */
  readonly from?: string
  /** Last entry id (inclusive); "+" for the newest at the time of each page. */
  readonly to?: string
  readonly pageSize?: number
}

const retentionArgs = (spec: StreamSpec<any>): Array<string> => {
  const retention = spec.retention ?? defaultRetention
  if (retention.maxAgeMs !== undefined) return ["MINID", "~", `${Math.max(0, Date.now() - retention.maxAgeMs)}-0`]
  if (retention.maxLen !== undefined) return ["MAXLEN", "~", String(retention.maxLen)]
  return []
}

/** The id right after `id`, for exclusive range reads. */
export const nextId = (id: string): string => {
  const [ms, seq] = id.split("-")
  return `${ms}-${BigInt(seq ?? "0") + 1n}`
}

export class StreamLog extends Context.Service<
  StreamLog,
  {
    /** Appends one message; returns the entry id. */
    readonly publish: <A extends AnyMessage>(
      spec: StreamSpec<A>,
      out: Envelope.Outgoing<A>
    ) => Effect.Effect<string, PublishError>
    /** Appends an already built envelope (request/reply and tests use this to keep ids). */
    readonly append: <A extends AnyMessage>(
      spec: StreamSpec<A>,
      envelope: Envelope.Envelope<A>,
      key?: string
    ) => Effect.Effect<string, PublishError>
    /** Every entry from `from` onward, in order; undecodable ones arrive as errors in the stream. */
    readonly read: <A extends AnyMessage>(
      spec: StreamSpec<A>,
      options?: ReadOptions
    ) => Stream.Stream<Envelope.Delivered<A> | Envelope.EnvelopeDecodeError, RedisError>
    readonly length: (spec: StreamSpec<any>) => Effect.Effect<number, RedisError>
  }
>()("@bank/platform/StreamLog") {}

export const make = Effect.gen(function* () {
  const redis = yield* Redis

  const append = <A extends AnyMessage>(
    spec: StreamSpec<A>,
    envelope: Envelope.Envelope<A>,
    key = Keys.stream(spec.name)
  ) =>
    Effect.gen(function* () {
      const fields = yield* Envelope.encode(spec, envelope).pipe(
        Effect.mapError((e) => new PublishError({ stream: spec.name, reason: "InvalidMessage", message: e.message }))
      )
      return yield* redis.send<string>("XADD", key, ...retentionArgs(spec), "*", ...fields).pipe(
        Effect.mapError(
          (cause) =>
            new PublishError({
              stream: spec.name,
              reason: "Unavailable",
              message: "could not append to the stream",
              cause
            })
        )
      )
    }).pipe(Effect.withSpan("StreamLog.append", { attributes: { stream: spec.name, type: envelope.type } }))

  const read = <A extends AnyMessage>(spec: StreamSpec<A>, options: ReadOptions = {}) => {
    const pageSize = options.pageSize ?? 500
    const to = options.to ?? "+"
    return Stream.paginate(options.from ?? "-", (from: string) =>
      redis.send<Array<RawEntry>>("XRANGE", Keys.stream(spec.name), from, to, "COUNT", String(pageSize)).pipe(
        Effect.flatMap((entries) =>
          Effect.forEach(entries, ([entryId, fields]) =>
            Effect.result(Envelope.decode(spec, entryId, fields, 0)).pipe(
              Effect.map((r) => (r._tag === "Success" ? r.success : r.failure))
            )
          ).pipe(
            Effect.map((decoded) => {
              const last = entries.at(-1)
              const next = entries.length === pageSize && last ? Option.some(nextId(last[0])) : Option.none()
              return [decoded, next] as const
            })
          )
        )
      )
    )
  }

  return StreamLog.of({
    // A message published under a span (an HTTP request, a handler) continues its trace.
    publish: (spec, out) =>
      out.causedBy !== undefined
        ? append(spec, Envelope.make(spec, out))
        : Effect.flatMap(Tracing.fromCurrentSpan, (trace) => {
            const envelope = Envelope.make(spec, out)
            return append(spec, trace === undefined ? envelope : { ...envelope, trace })
          }),
    append,
    read,
    length: (spec) => redis.send<number>("XLEN", Keys.stream(spec.name))
  })
})

export const layer = Layer.effect(StreamLog, make)
