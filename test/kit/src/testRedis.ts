// Which Redis topology the tests run on, and a plain node-redis connection to it for the
// tests' own assertions. TEST_REDIS_TOPOLOGY=cluster (the `e2e-cluster` vitest project) makes
// `useRedis` start a private 6-node Redis Cluster instead of one server; the system under test
// takes the `redis-cluster://` URL as it takes a `redis://` one.
import { createClient, createCluster } from "redis"

import { startRedisCluster } from "./localCluster.ts"
import { startRedis, type LocalRedis, type RedisOptions } from "./localServices.ts"

export type TestRedisClient = ReturnType<typeof createClient>

export const testTopology = (): "single" | "cluster" =>
  process.env.TEST_REDIS_TOPOLOGY === "cluster" ? "cluster" : "single"

/** A private Redis of the topology under test (a cluster keeps AOF on whatever `options` say). */
export const startTestRedis = (options?: RedisOptions): Promise<LocalRedis> =>
  testTopology() === "cluster" ? startRedisCluster() : startRedis(options)

/**
 * A connected client for `url` (`redis://` or `redis-cluster://`). On a cluster it is a
 * node-redis cluster client dressed as a plain one: typed commands route by key, `sendCommand`
 * routes by the command's key, and `keys` walks every master.
 */
export const connectRedis = async (url: string): Promise<TestRedisClient> => {
  if (!url.startsWith("redis-cluster://")) {
    const client = createClient({ url })
    client.on("error", () => {})
    await client.connect()
    return client
  }
  const rootNodes = url
    .slice("redis-cluster://".length)
    .split(",")
    .map((a) => {
      const [host, port] = a.split(":")
      return { socket: { host: host!, port: Number(port) } }
    })
  const cluster = createCluster({ rootNodes })
  cluster.on("error", () => {})
  await cluster.connect()
  // The tests' own commands all name their key first (XRANGE, XLEN, GET, ...), XREAD after STREAMS.
  const keyOf = (args: Array<string>) => {
    const streams = args.findIndex((a) => a.toUpperCase() === "STREAMS")
    return streams >= 0 ? args[streams + 1] : args[1]
  }
  const sendCommand = (args: Array<string>) => cluster.sendCommand(keyOf(args), false, args)
  const keys = async (pattern: string) => {
    const found: Array<string> = []
    for (const master of cluster.masters) {
      const client = await cluster.nodeClient(master)
      found.push(...(await client.keys(pattern)))
    }
    return found
  }
  return new Proxy(cluster, {
    get(target, property, receiver) {
      if (property === "sendCommand") return sendCommand
      if (property === "keys" || property === "KEYS") return keys
      const value = Reflect.get(target, property, receiver)
      return typeof value === "function" ? value.bind(target) : value
    }
  }) as unknown as TestRedisClient
}
