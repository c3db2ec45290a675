// `npm run services`: a Redis and a PostgreSQL for development, without touching whatever the
// machine already runs. For each one, REDIS_URL / DATABASE_URL wins when set (we only check
// that it answers); otherwise a private server is started on a free port
// (@bank/test-kit, test/kit/src/localServices.ts): throw-away, removed again on Ctrl-C, or with
// --data-dir kept across runs (what `npm start` does, in .data/).
//
// stdout carries only shell lines, so it can be pasted or read by a program:
//   export REDIS_URL=redis://127.0.0.1:40123      (one per server started here)
//   # ready                                        (everything answers)
// Everything meant for people goes to stderr.
// Flags: see --help.
import { CommandLine } from "@bank/platform"
import { startPostgres, startRedis, startRedisCluster } from "@bank/test-kit"
import { rmSync } from "node:fs"
import { join, resolve } from "node:path"
import { probePostgres, probeRedis, redactUrl } from "./lib/serviceProbes.ts"

const { values } = CommandLine.parse({
  name: "npm run services --",
  summary: "A private Redis and PostgreSQL on free ports for development (or check REDIS_URL / DATABASE_URL when set).",
  options: {
    "redis-aof": {
      type: "boolean",
      description: "Redis with the append-only file (fsync every second), as in production"
    },
    "redis-cluster": {
      type: "boolean",
      description: "a private 6-node Redis Cluster (3 masters, 3 replicas, AOF) instead of one Redis"
    },
    "data-dir": {
      type: "string",
      value: "DIR",
      description: "keep both servers' data in DIR across runs (Redis with config/redis.conf)"
    },
    fresh: { type: "boolean", description: "with --data-dir: delete what DIR holds first" },
    "exit-with-stdin": { type: "boolean", description: "stop when stdin closes (npm start uses it)" }
  },
  details:
    "stdout carries `export REDIS_URL=...` / `export DATABASE_URL=...` lines and `# ready`; Ctrl-C removes the servers."
})
const flags = new Set(
  Object.entries(values)
    .filter(([, on]) => on === true)
    .map(([flag]) => `--${flag}`)
)
const dataDir = values["data-dir"] === undefined ? undefined : resolve(values["data-dir"])
if (values.fresh && dataDir === undefined) CommandLine.usageError("services", "--fresh goes with --data-dir")
if (dataDir !== undefined && values.fresh) {
  console.error(`services: --fresh: deleting ${dataDir}`)
  rmSync(dataDir, { recursive: true, force: true })
}

const say = (line: string) => console.error(line)
const exported: Array<string> = []

const redis = async () => {
  const seeds = process.env.REDIS_CLUSTER_NODES?.trim()
  const given = seeds ? `redis-cluster://${seeds}` : process.env.REDIS_URL
  const cluster = flags.has("--redis-cluster")
  const url =
    given ??
    (cluster
      ? (await startRedisCluster()).url
      : (
          await startRedis({
            appendonly: flags.has("--redis-aof"),
            ...(dataDir ? { dataDir: join(dataDir, "redis") } : {})
          })
        ).url)
  if (!given) exported.push(`export REDIS_URL=${url}`)
  // A kept data set is loaded from disk first; Redis answers LOADING until it is in memory.
  const probe = async (deadline: number): Promise<Awaited<ReturnType<typeof probeRedis>>> =>
    probeRedis(url).catch(async (cause: unknown) => {
      if (!/LOADING/.test(String(cause)) || Date.now() > deadline)
        throw new Error(`Redis at ${redactUrl(url)} does not answer: ${String(cause)}`)
      await new Promise((r) => setTimeout(r, 200))
      return probe(deadline)
    })
  const facts = await probe(Date.now() + 300_000)
  const origin = given
    ? `${seeds ? "REDIS_CLUSTER_NODES" : "REDIS_URL"} (already set)`
    : cluster
      ? "private 6-node cluster (3 masters, 3 replicas), AOF everysec"
      : dataDir
        ? `private, kept in ${join(dataDir, "redis")} (config/redis.conf: AOF everysec)`
        : `private, ${flags.has("--redis-aof") ? "AOF everysec" : "no persistence"}`
  const shape = facts.cluster
    ? `; cluster_state ${facts.cluster.state}, ${facts.cluster.masters} masters, ${facts.cluster.slotsOk} slots ok`
    : ""
  say(`Redis ${facts.version} at ${redactUrl(url)}: ${origin}; RedisJSON: ${facts.json ? "yes" : "no"}${shape}`)
}

const postgres = async () => {
  const given = process.env.DATABASE_URL
  const url = given ?? (await startPostgres(dataDir ? { dataDir: join(dataDir, "postgres") } : {})).url
  if (!given) exported.push(`export DATABASE_URL=${url}`)
  const facts = await probePostgres(url).catch((cause: unknown) => {
    throw new Error(`PostgreSQL at ${redactUrl(url)} does not answer: ${String(cause)}`)
  })
  say(
    `PostgreSQL ${facts.version} at ${redactUrl(url)}: ${given ? "DATABASE_URL (already set)" : dataDir ? `private, kept in ${join(dataDir, "postgres")}` : "private"}; wal_level=${facts.walLevel}`
  )
  if (facts.walLevel !== "logical") say("warning: change data capture needs wal_level=logical on this server")
}

try {
  await redis()
  await postgres()
} catch (error) {
  // Servers started so far are removed by localServices' exit hook.
  say(error instanceof Error ? error.message : String(error))
  process.exit(1)
}

for (const line of exported) console.log(line)
console.log("# ready")

if (flags.has("--exit-with-stdin")) {
  // Our parent holds the other end of stdin; when it goes, for whatever reason, so do we.
  // Exiting runs localServices' exit hook, which stops and removes the servers.
  process.stdin.on("close", () => process.exit(0))
  process.stdin.on("end", () => process.exit(0))
  process.stdin.resume()
} else if (exported.length > 0) {
  say(
    dataDir
      ? `Ctrl-C stops the servers started here; their data stays in ${dataDir}`
      : "Ctrl-C stops the servers started here and deletes their data"
  )
  // localServices stops the servers on SIGINT/SIGTERM; until then, keep the event loop alive.
  setInterval(() => {}, 1 << 30)
} else {
  say("nothing to start: both URLs were given and answer")
}
