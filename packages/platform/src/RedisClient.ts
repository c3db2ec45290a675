// The Redis connection every service shares, on one server or on a Redis Cluster: the same
// `Redis` service (commands, Lua scripts called by SHA and reloaded on NOSCRIPT, reserved
// connections for blocking reads) and the `RedisTopology` service (every master, transactions,
// pub/sub, cached reads, health) either way, so no other code asks which one it is.
// - One server: Effect's own node-redis integration (`@effect/platform-node/NodeRedis`).
// - A cluster: RedisCluster.ts (node-redis `createCluster`, commands routed per key slot).
// Every script call is checked to touch one hash slot (Slots.ts) unless REDIS_CHECK_SLOTS=false,
// on one server too, so a script that would fail on a cluster fails in development already.
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { Config, Context, Effect, Layer } from "effect"
import { Redis, RedisError } from "effect/persistence/Redis"
import * as RedisCluster from "./RedisCluster.ts"
import {
  type CachedScript,
  clusterTarget,
  type Health,
  parseTarget,
  RedisTopology,
  type Target
} from "./RedisTopology.ts"
import { DurabilitySettings, DurableConnections, makeConnections } from "./Durability.ts"
import { assertOneSlot, CrossSlotError, oneSlot, routingKey, scriptKeys } from "./Slots.ts"
import { resilientSubscription } from "./Subscription.ts"
import * as TrackedHashes from "./TrackedHashes.ts"

export { Redis, RedisError } from "effect/persistence/Redis"
export { RedisTopology } from "./RedisTopology.ts"

export interface Options {
  /** Reserved connections (blocking stream reads, durable writes) per process. */
  readonly maxConnections?: number
  /** Refuse a script call whose keys are in two hash slots (default true). */
  readonly checkSlots?: boolean
  /** Replicas a durable write waits for (Durability.ts): default 1 on a cluster, 0 on one server. */
  readonly waitReplicas?: number
  /** How long a durable write waits for them (default 500 ms). */
  readonly waitTimeoutMs?: number
  /** Reserved connections durable writes take turns on, kept open (default 8; Durability.ts). */
  readonly durableConnections?: number
}

const fail = (cause: unknown) => new RedisError({ cause })

/** Every command of a transaction must be in `key`'s slot. */
const checkTransaction = (key: string, commands: ReadonlyArray<ReadonlyArray<string>>) =>
  Effect.try({
    try: () =>
      assertOneSlot(`MULTI/EXEC on ${key}`, [key, ...commands.flatMap((c) => routingKey(c[0]!, c.slice(1)) ?? [])]),
    catch: fail
  })

const withTransactionCheck = (topology: RedisTopology["Service"]): RedisTopology["Service"] => ({
  ...topology,
  transaction: (key, commands) =>
    checkTransaction(key, commands).pipe(Effect.andThen(topology.transaction(key, commands)))
})

// Wraps `eval` (shared and reserved) so a script handed keys of two slots fails before it runs.
const withSlotCheck = (redis: Redis["Service"]): Redis["Service"] => {
  const checkedEval =
    (evaluate: Redis["Service"]["eval"]): Redis["Service"]["eval"] =>
    (script) => {
      const run = evaluate(script)
      return (...params) =>
        Effect.suspend(() => {
          const keys = scriptKeys(script.numberOfKeys(...params), script.params(...params))
          return oneSlot(keys) ? run(...params) : Effect.fail(fail(new CrossSlotError("a Lua script", keys)))
        })
    }
  return Redis.of({
    ...redis,
    eval: checkedEval(redis.eval),
    reserve: Effect.map(redis.reserve, (connection) => ({ ...connection, eval: checkedEval(connection.eval) }))
  })
}

/**
 * A tracked cache (TrackedHashes.ts) for the lifetime of the scope: a fresh entry answers at
 * once, without a promise; a miss reads Redis through the tracking connection.
 */
const tracked = <T extends { readonly close: () => Promise<void> }>(connect: () => Promise<T>) =>
  Effect.acquireRelease(Effect.tryPromise({ try: connect, catch: fail }), (t) => Effect.promise(() => t.close()))

/** A cached value at once, without a promise; otherwise `read`. */
const hitOr = <V>(hit: V | undefined, read: () => Promise<V>): Effect.Effect<V, RedisError> =>
  hit !== undefined ? Effect.succeed(hit) : Effect.tryPromise({ try: read, catch: fail })

const trackedReads = <V>(connect: () => Promise<TrackedHashes.Tracked<V>>) =>
  tracked(connect).pipe(
    Effect.map((tracked) => ({
      read: (key: string) => hitOr(tracked.peek(key), () => tracked.read(key)),
      peek: tracked.peek,
      forget: tracked.forget
    }))
  )

/** The same for a script's replies (TrackedHashes.connectScript). */
const trackedScript = <V>(connect: () => Promise<TrackedHashes.TrackedScript<V>>) =>
  tracked(connect).pipe(
    Effect.map(
      (script): CachedScript<V> => ({
        read: (id, keys, args, decode) => hitOr(script.peek(id), () => script.read(id, keys, args, decode)),
        peek: script.peek,
        forget: script.forget
      })
    )
  )

// ── One server ──────────────────────────────────────────────────────────────────────────────
const single = (url: string, options: Options) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(
      NodeRedis.layer({ url, maxConnections: options.maxConnections ?? 64, disableOfflineQueue: true })
    )
    const { client } = Context.get(context, NodeRedis.NodeRedis)
    const redis = Context.get(context, Redis)
    const runSync = Effect.runSyncWith(yield* Effect.context<never>())
    const warn = (message: string, cause: unknown) => runSync(Effect.logWarning(message, cause))
    const topology = RedisTopology.of({
      kind: "single",
      masters: Effect.succeed([{ address: url, send: redis.send }]),
      transaction: (_key, commands) =>
        Effect.tryPromise({
          try: () => {
            const multi = client.multi()
            for (const command of commands) multi.addCommand([...command])
            return multi.exec() as Promise<ReadonlyArray<unknown>>
          },
          catch: fail
        }),
      waitForReplicas: (_key, replicas, timeoutMs) => redis.send<number>("WAIT", String(replicas), String(timeoutMs)),
      subscribe: (channel, onMessage) => resilientSubscription(channel, onMessage, () => [{ url }], warn),
      // A new client from the shared one's options (RESP3, tracking), not `duplicate`:
      // node-redis 5.9 keeps the RESP2 reply transforms on a RESP3 duplicate.
      cachedHashes: (cache) => trackedReads(() => TrackedHashes.connect(client.options ?? {}, cache)),
      cachedStrings: (cache) => trackedReads(() => TrackedHashes.connectStrings(client.options ?? {}, cache)),
      cachedScript: (lua, cache) => trackedScript(() => TrackedHashes.connectScript(client.options ?? {}, cache, lua)),
      health: redis.send("PING").pipe(
        Effect.as<Health>({ topology: "single", ok: true, state: "ok", slotsCovered: 16384, masters: 1 }),
        Effect.catch((error) =>
          Effect.succeed<Health>({
            topology: "single",
            ok: false,
            state: "unreachable",
            slotsCovered: 0,
            masters: 1,
            detail: String(error.cause)
          })
        )
      )
    })
    return { redis, topology }
  })

/**
 * Connects to `target`: a `redis://` URL (one server) or `redis-cluster://host:port,...` (a
 * cluster's seed nodes). Commands fail at once while a node is unreachable instead of queueing
 * in memory: readiness answers at once, actors retry, and shutdown does not wait for a dead node.
 */
export const layer = (
  target: string | Target,
  options: Options = {}
): Layer.Layer<Redis | RedisTopology, RedisError> => {
  const parsed = typeof target === "string" ? parseTarget(target) : target
  const checkSlots = options.checkSlots ?? true
  const replicas = options.waitReplicas ?? (parsed._tag === "Cluster" ? 1 : 0)
  return Layer.effectContext(
    Effect.gen(function* () {
      const made = yield* parsed._tag === "Single"
        ? single(parsed.url, options)
        : RedisCluster.make(parsed, { maxConnections: options.maxConnections ?? 64 })
      const redis = checkSlots ? withSlotCheck(made.redis) : made.redis
      const context = Context.make(Redis, redis).pipe(
        Context.add(RedisTopology, checkSlots ? withTransactionCheck(made.topology) : made.topology),
        Context.add(DurabilitySettings, { replicas, timeoutMs: options.waitTimeoutMs ?? 500 })
      )
      // Where durable writes may wait for a replica (a cluster; one server told to): Durability.ts.
      // On a cluster a reserved connection opens its sockets at first use, so an idle pool costs nothing.
      return replicas > 0 || parsed._tag === "Cluster"
        ? Context.add(
            context,
            DurableConnections,
            yield* makeConnections(redis, Math.max(1, options.durableConnections ?? 8))
          )
        : context
    })
  )
}

/**
 * The one topology setting: REDIS_CLUSTER_NODES=host:port,... (seed nodes of a cluster) when
 * set, otherwise REDIS_URL (default redis://127.0.0.1:6379; `redis-cluster://...` also names a
 * cluster). REDIS_MAX_RESERVED_CONNECTIONS, REDIS_CHECK_SLOTS, REDIS_WAIT_REPLICAS,
 * REDIS_WAIT_TIMEOUT_MS and REDIS_DURABLE_CONNECTIONS as in `Options`.
 */
export const targetConfig: Config.Config<Target> = Config.all({
  nodes: Config.String("REDIS_CLUSTER_NODES").pipe(Config.option),
  url: Config.String("REDIS_URL").pipe(Config.withDefault("redis://127.0.0.1:6379"))
}).pipe(
  Config.map(({ nodes, url }) =>
    nodes._tag === "Some" && nodes.value.trim() !== "" ? clusterTarget(nodes.value) : parseTarget(url)
  )
)

export const layerConfig: Layer.Layer<Redis | RedisTopology, RedisError | Config.ConfigError> = Layer.unwrap(
  Effect.gen(function* () {
    const target = yield* targetConfig
    const maxConnections = yield* Config.Int("REDIS_MAX_RESERVED_CONNECTIONS").pipe(Config.withDefault(64))
    const checkSlots = yield* Config.Boolean("REDIS_CHECK_SLOTS").pipe(Config.withDefault(true))
    const waitReplicas = yield* Config.Int("REDIS_WAIT_REPLICAS").pipe(Config.option)
    const waitTimeoutMs = yield* Config.Int("REDIS_WAIT_TIMEOUT_MS").pipe(Config.withDefault(500))
    const durableConnections = yield* Config.Int("REDIS_DURABLE_CONNECTIONS").pipe(Config.withDefault(8))
    return layer(target, {
      maxConnections,
      checkSlots,
      waitTimeoutMs,
      durableConnections,
      ...(waitReplicas._tag === "Some" ? { waitReplicas: waitReplicas.value } : {})
    })
  })
)
