// Which Redis topology the tests run on, and a plain node-redis connection to it for the
// tests' own assertions. TEST_REDIS_TOPOLOGY=cluster (the `e2e-cluster` vitest project) makes
// `useRedis` start a private 6-node Redis Cluster instead of one server; the system under test
// takes the `redis-cluster://` URL as it takes a `redis://` one.
export { connectRedis, type TestRedisClient } from "@bank/platform/testing/TestRedis"
import { startRedisCluster } from "../../scripts/lib/localCluster.ts"
import { startRedis, type LocalRedis, type RedisOptions } from "../../scripts/lib/localServices.ts"

export const testTopology = (): "single" | "cluster" => (process.env.TEST_REDIS_TOPOLOGY === "cluster" ? "cluster" : "single")

/** A private Redis of the topology under test (a cluster keeps AOF on whatever `options` say). */
export const startTestRedis = (options?: RedisOptions): Promise<LocalRedis> =>
  testTopology() === "cluster" ? startRedisCluster() : startRedis(options)

