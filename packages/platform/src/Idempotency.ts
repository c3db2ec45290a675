// Effectively-once side effects for at-least-once delivery. A marker key records that a
// message's action is running (a short lease) or done (kept for `ttlSeconds`); a redelivered
// message whose marker says done changes nothing. If the consumer dies mid-action the lease
// runs out and a later delivery does the action again, so the action itself must be safe to
// redo once (a database write in one transaction with its own unique key is; see also
// DocumentStore's guarded `apply`, which is atomic and needs no lease).
import { Effect, Option, Schema } from "effect"
import { Redis, RedisError } from "effect/persistence/Redis"

export class ActionInProgress extends Schema.TaggedError<ActionInProgress>()("ActionInProgress", {
  marker: Schema.String,
  message: Schema.String
}) {}

export interface OnceOptions {
  /** The marker key, from Keys.once(...) in the hash tag of the data the action changes. */
  readonly marker: string
  /** How long a finished action is remembered (at least the stream's redelivery horizon). */
  readonly ttlSeconds: number
  /** How long a running action holds the marker before another delivery may retry it. */
  readonly leaseMs?: number
}

/**
 * Runs `action` unless the marker says it already ran: Some(result) when it ran now, None when
 * it was a duplicate. Fails with ActionInProgress while another consumer holds the lease (the
 * actor retries it later).
 */
export const once =
  (options: OnceOptions) =>
  <A, E, R>(
    action: Effect.Effect<A, E, R>
  ): Effect.Effect<Option.Option<A>, E | ActionInProgress | RedisError, R | Redis> =>
    Effect.gen(function* () {
      const redis = yield* Redis
      const taken = yield* redis.send<string | null>(
        "SET",
        options.marker,
        "running",
        "NX",
        "PX",
        String(options.leaseMs ?? 30_000)
      )
      if (taken === null) {
        const state = yield* redis.send<string | null>("GET", options.marker)
        if (state === "done") return Option.none()
        return yield* new ActionInProgress({
          marker: options.marker,
          message: "the same message is being handled by another consumer"
        })
      }
      const result = yield* action.pipe(Effect.onError(() => redis.send("DEL", options.marker).pipe(Effect.ignore)))
      yield* redis.send("SET", options.marker, "done", "EX", String(options.ttlSeconds))
      return Option.some(result)
    })
