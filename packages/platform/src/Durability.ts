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
//
// The reserved connections durable writes use are a small fixed pool made with the Redis layer
// (`DurableConnections`, REDIS_DURABLE_CONNECTIONS, default 8), each used by one write at a time
// (WAIT on a connection covers every write sent on it, and the cluster's reserved connection
// waits on exactly the masters written since its last WAIT), kept open and reused. Reserving a
// connection per write grew one per concurrent writer, each opening a socket to every master it
// wrote to: 32 concurrent logins opened ~96 sockets on a burst and spent seconds connecting.
import { Context, Effect, Option, Pool, Schema, type Scope } from "effect"
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

type Connection = Effect.Success<Redis["Service"]["reserve"]>

/** The fixed pool of connections durable writes take turns on (made by RedisClient.layer). */
export class DurableConnections extends Context.Service<DurableConnections, Pool.Pool<Connection, RedisError>>()(
  "@bank/platform/DurableConnections"
) {}

/** `size` reserved connections, reserved once and kept for the scope (replaced when one fails). */
export const makeConnections = (
  redis: Redis["Service"],
  size: number
): Effect.Effect<Pool.Pool<Connection, RedisError>, never, Scope.Scope> => Pool.make({ acquire: redis.reserve, size })

const writeThenWait = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const settings = yield* DurabilitySettings
    if (settings.replicas <= 0) return { result: yield* effect, settings, acknowledged: Number.POSITIVE_INFINITY }
    const redis = yield* Redis
    const pool = yield* Effect.serviceOption(DurableConnections)
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const connection = Option.isSome(pool) ? yield* Pool.get(pool.value) : yield* redis.reserve
        return yield* Effect.gen(function* () {
          const result = yield* Effect.provideService(
            effect,
            Redis,
            Redis.of({ ...redis, send: connection.send, eval: connection.eval })
          )
          const acknowledged = yield* connection.send<number>(
            "WAIT",
            String(settings.replicas),
            String(settings.timeoutMs)
          )
          return { result, settings, acknowledged }
        }).pipe(
          // A connection something failed on (a master gone, a command cut off) is not handed out again.
          Effect.onError(() => (Option.isSome(pool) ? Pool.invalidate(pool.value, connection) : Effect.void))
        )
      })
    )
  })

/**
 * Runs `effect` with its Redis commands on one reserved connection, then waits until the
 * configured number of replicas acknowledged them; fails NotReplicated when they did not in time.
 */
export const durable = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | RedisError | NotReplicated, R | Redis> =>
  Effect.flatMap(writeThenWait(effect), ({ result, settings, acknowledged }) =>
    acknowledged >= settings.replicas
      ? Effect.succeed(result)
      : Effect.fail(new NotReplicated({ wanted: settings.replicas, acknowledged, timeoutMs: settings.timeoutMs }))
  )

/** `durable`, but a write too few replicas acknowledged in time is kept and logged, not failed. */
export const durableOrLogged = <A, E, R>(
  what: string,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | RedisError, R | Redis> =>
  Effect.flatMap(writeThenWait(effect), ({ result, settings, acknowledged }) =>
    acknowledged >= settings.replicas
      ? Effect.succeed(result)
      : Effect.as(
          Effect.logWarning(`degraded durability: ${what} is on its master only`, {
            wanted: settings.replicas,
            acknowledged,
            timeoutMs: settings.timeoutMs
          }),
          result
        )
  )
