// The Redis connection every service shares. We reuse Effect's own node-redis integration
// (`@effect/platform-node/NodeRedis`): it gives the `Redis` service (commands, cached Lua
// scripts called by SHA and reloaded on NOSCRIPT, reserved connections for blocking reads)
// and `NodeRedis` (the raw node-redis client, for what `Redis` does not cover).
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { Config } from "effect"

export { NodeRedis }
export { Redis, RedisError } from "effect/persistence/Redis"

/**
 * Connects to `url`; reserved connections (blocking stream reads) are pooled per process.
 * Commands fail at once while Redis is unreachable instead of queueing in memory: readiness
 * answers 503 immediately, actors retry, and shutdown does not wait for a dead server.
 */
export const layer = (url: string) => NodeRedis.layer({ url, maxConnections: 64, disableOfflineQueue: true })

/** Connects to `REDIS_URL` (default redis://127.0.0.1:6379). */
export const layerConfig = NodeRedis.layerConfig({
  url: Config.String("REDIS_URL").pipe(Config.withDefault("redis://127.0.0.1:6379")),
  maxConnections: Config.Int("REDIS_MAX_RESERVED_CONNECTIONS").pipe(Config.withDefault(64)),
  disableOfflineQueue: Config.succeed(true)
})
