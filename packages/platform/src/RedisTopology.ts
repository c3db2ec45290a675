// What the code needs to know about where Redis runs, and nothing more: one server or a Redis
// Cluster. Commands, scripts and reserved connections go through the `Redis` service on both
// (on a cluster they are routed to the master of each key's slot); this service adds what
// differs between the two and must not be done by hand:
// - `masters`: every master, for tools that walk the keyspace (SCAN sees one node only);
// - `transaction`: MULTI/EXEC on the node owning the key, every command's key in its slot;
// - `subscribe`: a pub/sub subscription that moves to another node when its node dies;
// - `cachedHashes`, `cachedStrings`, `cachedScript`: RESP3 reads with server-assisted client-side
//   caching (the token check, the dashboard document, a page of transactions);
// - `health`: the cluster's state and slot coverage, for readiness.
// One setting chooses the topology (RedisClient.layerConfig): REDIS_CLUSTER_NODES=host:port,...
// (seed nodes) for a cluster, otherwise REDIS_URL. `redis-cluster://host:port,host:port` is the
// same cluster setting written as a URL, so a test helper can hand one string to a child.
import { Context, Effect, type Scope } from "effect"
import type { Redis, RedisError } from "effect/persistence/Redis"

export type Target =
  | { readonly _tag: "Single"; readonly url: string }
  | {
      readonly _tag: "Cluster"
      readonly nodes: ReadonlyArray<{ readonly host: string; readonly port: number }>
      readonly url: string
    }

const CLUSTER_SCHEME = "redis-cluster://"

/** `host:port,host:port` (seed nodes) to a cluster target; throws on anything else. */
export const clusterTarget = (seeds: string): Target => {
  const nodes = seeds
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((seed) => {
      const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(seed)
      if (!match) throw new Error(`REDIS_CLUSTER_NODES: "${seed}" is not host:port`)
      return { host: match[1]!, port: Number(match[2]) }
    })
  if (nodes.length === 0) throw new Error("REDIS_CLUSTER_NODES: no seed node given")
  return { _tag: "Cluster", nodes, url: `${CLUSTER_SCHEME}${nodes.map((n) => `${n.host}:${n.port}`).join(",")}` }
}

/** A `redis://` / `rediss://` URL (one server) or `redis-cluster://host:port,...` (a cluster). */
export const parseTarget = (text: string): Target =>
  text.startsWith(CLUSTER_SCHEME) ? clusterTarget(text.slice(CLUSTER_SCHEME.length)) : { _tag: "Single", url: text }

/** The environment a child process needs to reach the same Redis (REDIS_URL or REDIS_CLUSTER_NODES). */
export const targetEnv = (text: string): Record<string, string> => {
  const target = parseTarget(text)
  return target._tag === "Single"
    ? { REDIS_URL: target.url }
    : { REDIS_CLUSTER_NODES: target.nodes.map((n) => `${n.host}:${n.port}`).join(","), REDIS_URL: target.url }
}

export interface Node {
  readonly address: string
  /** A command on this node's shared connection (no routing). */
  readonly send: Redis["Service"]["send"]
}

export interface Health {
  readonly topology: "single" | "cluster"
  /** Every slot is served by a master that answers. */
  readonly ok: boolean
  /** `cluster_state` of CLUSTER INFO ("ok" / "fail"); "ok" on a single server that answers. */
  readonly state: string
  /** Slots served by masters that answered (16384 when whole). */
  readonly slotsCovered: number
  readonly masters: number
  readonly detail?: string
}

/** Hash reads with server-assisted client-side caching (TrackedHashes.ts on one server). */
export interface CachedHashes {
  readonly read: (key: string) => Effect.Effect<Readonly<Record<string, string>>, RedisError>
  /** The hash when it is cached and fresh, synchronously; undefined means "read it". */
  readonly peek: (key: string) => Readonly<Record<string, string>> | undefined
}

/** String reads (GET) with server-assisted client-side caching: stored documents. */
export interface CachedStrings {
  readonly read: (key: string) => Effect.Effect<string | null, RedisError>
  readonly peek: (key: string) => string | null | undefined
  /** Drops `key` now (its owner knows it changed), a read of it in flight included. */
  readonly forget: (key: string) => void
}

/**
 * A read-only Lua script's replies with server-assisted client-side caching, each under an id
 * the caller chooses (what its keys and arguments are): a write to any key the script read
 * drops every reply that read it.
 */
export interface CachedScript<V> {
  /** The reply under `id`, decoded, from the cache or else from running the script on `keys` and `args`. */
  readonly read: (
    id: string,
    keys: ReadonlyArray<string>,
    args: ReadonlyArray<string>,
    decode: (reply: unknown) => V
  ) => Effect.Effect<V, RedisError>
  readonly peek: (id: string) => V | undefined
  /** Drops every reply that read `key` now (its owner knows it changed). */
  readonly forget: (key: string) => void
}

export class RedisTopology extends Context.Service<
  RedisTopology,
  {
    readonly kind: "single" | "cluster"
    /** Every master now (a cluster's topology is looked up again after failures). */
    readonly masters: Effect.Effect<ReadonlyArray<Node>, RedisError>
    /** MULTI/EXEC on the node owning `key`; every command's key must be in `key`'s slot. */
    readonly transaction: (
      key: string,
      commands: ReadonlyArray<ReadonlyArray<string>>
    ) => Effect.Effect<ReadonlyArray<unknown>, RedisError>
    /**
     * WAIT on the shared connection to `key`'s master: resolves with how many replicas hold
     * everything written through it so far (a `transaction` on `key` included). It holds up that
     * connection meanwhile: for writers that can afford it (the CDC connector); others use
     * Durability.durable on a reserved connection.
     */
    readonly waitForReplicas: (key: string, replicas: number, timeoutMs: number) => Effect.Effect<number, RedisError>
    /** Delivers `channel`'s messages for the lifetime of the scope, resubscribing (elsewhere) after failures. */
    readonly subscribe: (
      channel: string,
      onMessage: (message: string) => void
    ) => Effect.Effect<void, never, Scope.Scope>
    /** HGETALL through a RESP3 client with client-side caching, for the lifetime of the scope. */
    readonly cachedHashes: (options: {
      readonly maxEntries: number
      readonly ttlMs: number
    }) => Effect.Effect<CachedHashes, RedisError, Scope.Scope>
    /** GET through a RESP3 client with client-side caching, for the lifetime of the scope. */
    readonly cachedStrings: (options: {
      readonly maxEntries: number
      readonly ttlMs: number
    }) => Effect.Effect<CachedStrings, RedisError, Scope.Scope>
    /** `lua`, read-only, through a RESP3 client with client-side caching, for the lifetime of the scope. */
    readonly cachedScript: <V>(
      lua: string,
      options: { readonly maxEntries: number; readonly ttlMs: number }
    ) => Effect.Effect<CachedScript<V>, RedisError, Scope.Scope>
    readonly health: Effect.Effect<Health>
  }
>()("@bank/platform/RedisTopology") {}

/**
 * Calls `f` with each batch of keys matching `match` on every master (SCAN on one node of a
 * cluster sees that node's keys only). Keys of a batch may be of many slots.
 */
export const scanKeys = <E, R>(
  match: string,
  f: (keys: ReadonlyArray<string>) => Effect.Effect<void, E, R>,
  options: { readonly count?: number; readonly type?: string } = {}
) =>
  Effect.gen(function* () {
    const topology = yield* RedisTopology
    for (const node of yield* topology.masters) {
      let cursor = "0"
      do {
        const [next, keys] = yield* node.send<[string, Array<string>]>(
          "SCAN",
          cursor,
          "MATCH",
          match,
          "COUNT",
          String(options.count ?? 1000),
          ...(options.type ? ["TYPE", options.type] : [])
        )
        if (keys.length > 0) yield* f(keys)
        cursor = next
      } while (cursor !== "0")
    }
  })
