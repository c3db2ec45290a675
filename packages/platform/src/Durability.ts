// Writes that must survive a Redis failover. Replication is asynchronous: a write a master
// acknowledged can vanish when that master dies before its replica copied it, and the replica
// takes over. `durable(effect)` runs `effect`'s Redis commands on a reserved connection (routed
// per key on a cluster) and then sends `WAIT <replicas> <timeoutMs>` on it, which returns once
// that many replicas of every master it wrote to hold those writes.
//
// When fewer replicas answer in time (no replica, or the replica is resyncing after a
// failover), the writes stay on the master: `durable` reports it as `NotReplicated` and the
// caller decides. Identity accepts the login and logs the degraded durability (a login must not
// fail because a replica is away; the session is then only as safe as one master). The CDC
// connector instead does not confirm the position to PostgreSQL, so a lost entry is streamed again.
//
// REDIS_WAIT_REPLICAS (default 1 on a cluster, 0 on one server, where there is no replica) and
// REDIS_WAIT_TIMEOUT_MS (default 500) configure it, read once in RedisClient.layerConfig.
import { Context, Effect, Schema } from "effect"
import { Redis, type RedisError } from "effect/persistence/Redis"

export interface Settings {
  readonly replicas: number
  readonly timeoutMs: number
}

/** What `durable` waits for; none unless RedisClient's layer sets it. */
export const DurabilitySettings = Context.Reference<Settings>("@bank/platform/DurabilitySettings", {
  defaultValue: () => ({ replicas: 0, timeoutMs: 500 })
})

export class NotReplicated extends Schema.TaggedError<NotReplicated>()("NotReplicated", {
  wanted: Schema.Number,
  acknowledged: Schema.Number,
  timeoutMs: Schema.Number
}) {}

const writeThenWait = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const settings = yield* DurabilitySettings
    if (settings.replicas <= 0) return { result: yield* effect, settings, acknowledged: Number.POSITIVE_INFINITY }
    const redis = yield* Redis
    return yield* Effect.scoped(Effect.gen(function*() {
      const connection = yield* redis.reserve
      const result = yield* Effect.provideService(effect, Redis, Redis.of({ ...redis, send: connection.send, eval: connection.eval }))
      const acknowledged = yield* connection.send<number>("WAIT", String(settings.replicas), String(settings.timeoutMs))
      return { result, settings, acknowledged }
    }))
  })

/**
 * Runs `effect` with its Redis commands on one reserved connection, then waits until the
 * configured number of replicas acknowledged them; fails NotReplicated when they did not in time.
 */
export const durable = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | RedisError | NotReplicated, R | Redis> =>
  Effect.flatMap(writeThenWait(effect), ({ result, settings, acknowledged }) =>
    acknowledged >= settings.replicas
      ? Effect.succeed(result)
      : Effect.fail(new NotReplicated({ wanted: settings.replicas, acknowledged, timeoutMs: settings.timeoutMs })))

/** `durable`, but a write too few replicas acknowledged in time is kept and logged, not failed. */
export const durableOrLogged = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | RedisError, R | Redis> =>
  Effect.flatMap(writeThenWait(effect), ({ result, settings, acknowledged }) =>
    acknowledged >= settings.replicas
      ? Effect.succeed(result)
      : Effect.as(
        Effect.logWarning(`degraded durability: ${what} is on its master only`, { wanted: settings.replicas, acknowledged, timeoutMs: settings.timeoutMs }),
        result
      ))
