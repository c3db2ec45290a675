// Checks that a Redis or PostgreSQL someone pointed us at (REDIS_URL / DATABASE_URL) really
// answers, and reports the facts that change how the system runs on it, so a wrong URL or a
// server without what we need shows up at start rather than as an error deep in an actor.
import pg from "pg"
import { createClient } from "redis"

const TIMEOUT_MS = 5_000

export interface RedisFacts {
  readonly version: string
  /** For a cluster: its state and size, as CLUSTER INFO says. */
  readonly cluster?: { readonly state: string; readonly slotsOk: number; readonly masters: number }
  /** Whether JSON.* commands exist (Redis 8, Redis Stack, Redis Enterprise with RedisJSON). */
  readonly json: boolean
}

export const probeRedis = async (target: string): Promise<RedisFacts> => {
  // A cluster (`redis-cluster://host:port,...`) is asked through its first seed node.
  const seed = target.startsWith("redis-cluster://") ? target.slice("redis-cluster://".length).split(",")[0] : undefined
  const url = seed ? `redis://${seed}` : target
  // No reconnects: a server that does not answer is the answer.
  const client = createClient({ url, socket: { connectTimeout: TIMEOUT_MS, reconnectStrategy: false } })
  client.on("error", () => {})
  try {
    await client.connect()
    await client.ping()
    const info = await client.info("server")
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown"
    const json = (await client
      .sendCommand(["COMMAND", "INFO", "JSON.GET"])
      .then((r) => Array.isArray(r) && r[0] !== null)) as boolean
    if (!seed) return { version, json }
    const cluster = String(await client.sendCommand(["CLUSTER", "INFO"]))
    const field = (name: string) => new RegExp(`${name}:(\\S+)`).exec(cluster)?.[1] ?? "unknown"
    return {
      version,
      json,
      cluster: {
        state: field("cluster_state"),
        slotsOk: Number(field("cluster_slots_ok")),
        masters: Number(field("cluster_size"))
      }
    }
  } finally {
    await client.close().catch(() => {})
  }
}

export interface PostgresFacts {
  readonly version: string
  readonly walLevel: string
}

export const probePostgres = async (url: string): Promise<PostgresFacts> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS })
  client.on("error", () => {})
  try {
    await client.connect()
    const { rows } = await client.query<{ version: string; wal_level: string }>(
      "SELECT current_setting('server_version') AS version, current_setting('wal_level') AS wal_level"
    )
    return { version: rows[0]?.version ?? "unknown", walLevel: rows[0]?.wal_level ?? "unknown" }
  } finally {
    await client.end().catch(() => {})
  }
}

/** Hides the password of a URL for logs. */
export const redactUrl = (url: string): string => {
  if (url.startsWith("redis-cluster://")) return url // host:port list, no credentials
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = "***"
    return parsed.toString()
  } catch {
    return "<unparsable URL>"
  }
}
