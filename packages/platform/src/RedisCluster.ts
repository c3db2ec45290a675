// The `Redis` and `RedisTopology` services on a Redis Cluster (node-redis `createCluster`).
//
// - Commands go to the master of their key's slot (Slots.routingKey); `SCRIPT LOAD` and
//   `FUNCTION LOAD` go to every master, so an EVALSHA or FCALL finds its script or function on
//   whichever master owns the key, also on a replica promoted since. SCAN/KEYS on the shared client fail loudly: they would see one node only
//   (use RedisTopology.scanKeys).
// - A reserved connection (blocking stream reads, durable writes) is a set of dedicated
//   connections, one per master it talks to, each command sent to its key's master. A MOVED
//   reply is followed after looking the topology up again (the command did not run); any other
//   failure fails the command and the connection is thrown away, so the next reservation
//   starts from the new topology. `WAIT` on it waits on every master it wrote to.
// - node-redis only looks the topology up again after a MOVED reply; a SIGKILLed master gives
//   none (its connection just fails), so every connection failure here asks for a fresh
//   topology (at most every 200 ms). Once a replica took over, commands reach it.
import { Effect } from "effect"
import * as Redis from "effect/persistence/Redis"
import { createClient, createCluster, ErrorReply } from "redis"
import { routingKey, SLOTS, slotOf } from "./Slots.ts"
import type { CachedScript, Health, Node, RedisTopology, Target } from "./RedisTopology.ts"
import { resilientSubscription } from "./Subscription.ts"

type ClusterTarget = Extract<Target, { _tag: "Cluster" }>
type Cluster = ReturnType<typeof createCluster>
type NodeClient = ReturnType<typeof createClient>

export interface ClusterOptions {
  readonly maxConnections: number
}

const nodeDefaults = {
  // Fail at once while a node is unreachable rather than queue in memory (503 and retry above).
  disableOfflineQueue: true,
  socket: {
    connectTimeout: 2000,
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000) + Math.floor(Math.random() * 100)
  }
}

const isConnectionFailure = (cause: unknown) => !(cause instanceof ErrorReply)
const isMoved = (cause: unknown) =>
  cause instanceof ErrorReply &&
  (cause.message.startsWith("MOVED") || cause.message.startsWith("CLUSTERDOWN") || cause.message.startsWith("TRYAGAIN"))

/** Asks `cluster` for a fresh topology, at most every 200 ms. */
const rediscovery = (cluster: Cluster) => {
  let last = 0
  return (force = false): Promise<void> => {
    const now = Date.now()
    if (!force && now - last < 200) return Promise.resolve()
    last = now
    const known = [...cluster.masters, ...cluster.replicas]
      .map((n) => n.client)
      .filter((c): c is NonNullable<typeof c> => c !== undefined)
    const start = known.find((c) => c.isReady) ?? known[0]
    if (!start) return Promise.resolve()
    return cluster._slots.rediscover(start as never).catch(() => undefined)
  }
}

const fail = (cause: unknown) => new Redis.RedisError({ cause })

/**
 * The cached-read services (RedisTopology.CachedHashes / CachedStrings) where nothing can be
 * looked up synchronously: node-redis's cluster cache answers through a promise, and strings are
 * not cached on a cluster. Every read goes through `read`; there is nothing to forget.
 */
const readsOnly = <V>(read: (key: string) => Effect.Effect<V, Redis.RedisError>) => ({
  read,
  peek: (_key: string): V | undefined => undefined,
  forget: (_key: string) => {}
})

export const make = Effect.fnUntraced(function* (target: ClusterTarget, options: ClusterOptions) {
  const runSync = Effect.runSyncWith(yield* Effect.context<never>())
  let lastWarning = 0
  const warn = (message: string, cause: unknown) => {
    if (Date.now() - lastWarning < 1000) return
    lastWarning = Date.now()
    runSync(Effect.logWarning(message, cause))
  }
  const rootNodes = target.nodes.map((n) => ({ socket: { host: n.host, port: n.port } }))
  const connectCluster = (extra: Partial<Parameters<typeof createCluster>[0]> = {}) =>
    Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const cluster = createCluster({ rootNodes, defaults: nodeDefaults, ...extra } as Parameters<
            typeof createCluster
          >[0])
          cluster.on("error", (cause) => warn("Redis Cluster error", cause))
          cluster.on("node-error", (cause, node) => warn(`Redis Cluster node ${node?.host}:${node?.port} error`, cause))
          await cluster.connect()
          return cluster as Cluster
        },
        catch: fail
      }),
      (cluster) => Effect.sync(() => cluster.destroy())
    )

  const cluster = yield* connectCluster()
  const refresh = rediscovery(cluster)
  const afterFailure = (cause: unknown) => {
    if (isConnectionFailure(cause) || isMoved(cause)) void refresh()
  }
  // A command on the shared client never blocks on the server (blocking reads use reserved
  // connections), so one that has not answered in 10 s is stuck on a connection that will not
  // come back (node-redis can leave a command waiting for a node it has since dropped): fail it
  // and look the topology up again.
  const attempt = <A>(run: () => Promise<A>): Effect.Effect<A, Redis.RedisError> =>
    Effect.tryPromise({
      try: () => {
        let timer: ReturnType<typeof setTimeout> | undefined
        const stuck = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("Redis Cluster command got no answer in 10 s")), 10_000)
        })
        return Promise.race([run(), stuck])
          .catch((cause) => {
            afterFailure(cause)
            throw cause
          })
          .finally(() => clearTimeout(timer))
      },
      catch: fail
    })

  const masterClient = (node: (typeof cluster.masters)[number]) => Promise.resolve(cluster.nodeClient(node))

  const send = <A = unknown>(command: string, ...args: ReadonlyArray<string>): Effect.Effect<A, Redis.RedisError> => {
    const name = command.toUpperCase()
    // Scripts and function libraries go to every master, so a call finds them on any.
    if ((name === "SCRIPT" || name === "FUNCTION") && args[0]?.toUpperCase() === "LOAD") {
      return attempt(async () => {
        const loaded = await Promise.allSettled(
          cluster.masters.map(async (m) => (await masterClient(m)).sendCommand([command, ...args]))
        )
        const ok = loaded.find((r) => r.status === "fulfilled")
        if (!ok)
          throw (loaded[0] as PromiseRejectedResult | undefined)?.reason ?? new Error("no master to load the script on")
        return ok.value as A
      })
    }
    if (name === "SCAN" || name === "KEYS") {
      return Effect.fail(
        fail(new Error(`${name} on a Redis Cluster sees one node only: walk every master (RedisTopology.scanKeys)`))
      )
    }
    if (name === "WAIT") {
      return Effect.fail(
        fail(
          new Error(
            "WAIT on the shared cluster client waits on an arbitrary node: send it on a reserved connection (Durability.durable)"
          )
        )
      )
    }
    return attempt(() => cluster.sendCommand(routingKey(command, args), false, [command, ...args]) as Promise<A>)
  }

  // ── Reserved connections: one dedicated client per master, commands routed per key ────────
  const connect = Effect.sync(() => {
    const clients = new Map<string, Promise<NodeClient>>()
    const written = new Set<string>()
    const clientFor = async (node: { readonly address: string; readonly host: string; readonly port: number }) => {
      let client = clients.get(node.address)
      // A kept connection (Durability's pool) may have lost a socket since (the node restarted):
      // connect again rather than send a write on a socket that is gone.
      if (
        client &&
        !(await client.then(
          (c) => c.isReady,
          () => false
        ))
      ) {
        if (clients.get(node.address) === client) clients.delete(node.address)
        client = undefined
      }
      if (!client) {
        client = (async () => {
          const c = createClient({
            socket: { host: node.host, port: node.port, connectTimeout: 2000, reconnectStrategy: false },
            disableOfflineQueue: true
          })
          c.on("error", (cause) => warn(`Redis reserved connection to ${node.address} failed`, cause))
          await c.connect()
          return c as NodeClient
        })()
        client.catch(() => clients.delete(node.address))
        clients.set(node.address, client)
      }
      return client
    }
    const masterFor = (key: string | undefined) => {
      const masters = cluster.masters
      if (key === undefined) return masters[Math.floor(Math.random() * masters.length)]
      return cluster.slots[slotOf(key)]?.master
    }
    const run = async (args: Array<string>): Promise<unknown> => {
      if (args[0]!.toUpperCase() === "WAIT") {
        const targets = [...written]
        written.clear()
        if (targets.length === 0) return Number.MAX_SAFE_INTEGER
        const acked = await Promise.all(
          targets.map(async (address) => (await clients.get(address))!.sendCommand(args) as Promise<number>)
        )
        return Math.min(...acked)
      }
      const key = routingKey(args[0]!, args.slice(1))
      for (let redirects = 0; ; redirects++) {
        const master = masterFor(key)
        if (!master) {
          void refresh()
          throw new Error(`no master serves the slot of ${key}`)
        }
        try {
          const client = await clientFor(master)
          written.add(master.address)
          return await client.sendCommand(args)
        } catch (cause) {
          afterFailure(cause)
          if (isMoved(cause) && redirects < 5) {
            await refresh(true)
            if (cause instanceof ErrorReply && !cause.message.startsWith("MOVED"))
              await new Promise((r) => setTimeout(r, 100))
            continue
          }
          throw cause
        }
      }
    }
    return {
      send: <A = unknown>(command: string, ...args: ReadonlyArray<string>) =>
        Effect.tryPromise({ try: () => run([command, ...args]) as Promise<A>, catch: fail }),
      close: Effect.sync(() => {
        for (const client of clients.values())
          client.then(
            (c) => c.isOpen && c.destroy(),
            () => undefined
          )
        clients.clear()
      })
    }
  })

  const addresses = () => {
    const known = [...cluster.masters, ...cluster.replicas].map((n) => ({ socket: { host: n.host, port: n.port } }))
    return known.length > 0 ? known : rootNodes
  }
  const subscribe = (channel: string, onMessage: (message: string) => void) =>
    resilientSubscription(channel, onMessage, addresses, warn)

  const redis = yield* Redis.make({
    send,
    connect,
    pool: { maxConnections: options.maxConnections },
    subscribe: (channel, onMessage) =>
      Effect.as(
        subscribe(channel, (message) => onMessage({ channel, message })),
        Effect.never
      )
  })

  const masters = Effect.sync(() =>
    cluster.masters.map(
      (m): Node => ({
        address: m.address,
        send: <A>(command: string, ...args: ReadonlyArray<string>) =>
          attempt(async () => (await masterClient(m)).sendCommand([command, ...args]) as Promise<A>)
      })
    )
  )

  const transaction = (key: string, commands: ReadonlyArray<ReadonlyArray<string>>) =>
    attempt(async () => {
      const multi = cluster.multi(key)
      for (const command of commands) multi.addCommand(key, false, [...command])
      return (await multi.exec()) as ReadonlyArray<unknown>
    })

  const cachedHashes = (cache: { readonly maxEntries: number; readonly ttlMs: number }) =>
    Effect.gen(function* () {
      const cached = yield* connectCluster({
        RESP: 3,
        clientSideCache: { ttl: cache.ttlMs, maxEntries: cache.maxEntries, evictPolicy: "LRU" }
      })
      const refreshCached = rediscovery(cached)
      return readsOnly((key) =>
        Effect.tryPromise({
          try: () =>
            (cached.hGetAll(key) as Promise<Record<string, string>>).catch((cause) => {
              if (isConnectionFailure(cause) || isMoved(cause)) void refreshCached()
              throw cause
            }),
          catch: fail
        })
      )
    })

  const health: Effect.Effect<Health> = Effect.promise(async (): Promise<Health> => {
    try {
      const info = String(await cluster.sendCommand(undefined, true, ["CLUSTER", "INFO"]))
      const fields = Object.fromEntries(
        info
          .split(/\r?\n/)
          .filter((l) => l.includes(":"))
          .map((l) => l.trim().split(":") as [string, string])
      )
      const answering = new Set<string>()
      await Promise.all(
        cluster.masters.map(async (m) => {
          try {
            await (await masterClient(m)).sendCommand(["PING"])
            answering.add(m.address)
          } catch {
            /* not answering */
          }
        })
      )
      let slotsCovered = 0
      for (let slot = 0; slot < SLOTS; slot++)
        if (answering.has(cluster.slots[slot]?.master.address ?? "")) slotsCovered++
      const state = fields.cluster_state ?? "unknown"
      return {
        topology: "cluster",
        // The process can work while the cluster says ok and at least one master answers; a
        // shard failing over costs its customers a few seconds of 503, not the whole process.
        ok: state === "ok" && answering.size > 0,
        state,
        slotsCovered,
        masters: cluster.masters.length,
        ...(slotsCovered < SLOTS
          ? { detail: `${SLOTS - slotsCovered} slots without an answering master (failover in progress?)` }
          : {})
      }
    } catch (cause) {
      return {
        topology: "cluster",
        ok: false,
        state: "unreachable",
        slotsCovered: 0,
        masters: cluster.masters.length,
        detail: String(cause)
      }
    }
  })

  const waitForReplicas = (key: string, replicas: number, timeoutMs: number) =>
    attempt(() => cluster.sendCommand(key, false, ["WAIT", String(replicas), String(timeoutMs)]) as Promise<number>)

  // Not cached on a cluster yet (one tracked connection per node would be needed): a plain GET.
  const cachedStrings = () => Effect.succeed(readsOnly((key) => redis.send<string | null>("GET", key)))
  // Nor a script's replies: the script by EVALSHA on the node of its keys, every time.
  const cachedScript = <V>(lua: string) => {
    const run = Redis.script((keys: ReadonlyArray<string>, args: ReadonlyArray<string>) => [...keys, ...args], {
      lua,
      numberOfKeys: (keys) => keys.length
    })
    return Effect.succeed<CachedScript<V>>({
      read: (_id, keys, args, decode) => Effect.map(redis.eval(run)(keys, args), decode),
      peek: () => undefined,
      forget: () => {}
    })
  }

  const topology: RedisTopology["Service"] = {
    kind: "cluster",
    masters,
    transaction,
    waitForReplicas,
    subscribe,
    cachedHashes,
    cachedStrings,
    cachedScript,
    health
  }
  return { redis, topology }
})
