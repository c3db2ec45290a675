// `npm run services`: a Redis and a PostgreSQL for development, without touching whatever the
// machine already runs. For each one, REDIS_URL / DATABASE_URL wins when set (we only check
// that it answers); otherwise a private throw-away server is started on a free port
// (@bank/test-kit, test/kit/src/localServices.ts) and removed again on Ctrl-C.
//
// stdout carries only shell lines, so it can be pasted or read by a program:
//   export REDIS_URL=redis://127.0.0.1:40123      (one per server started here)
//   # ready                                        (everything answers)
// Everything meant for people goes to stderr.
//
// Flags:
//   --redis-aof        start Redis with the append-only file (fsync every second), as in production
//   --redis-cluster    start a private 6-node Redis Cluster (3 masters, 3 replicas, AOF) instead of
//                      one server (test/kit/src/localCluster.ts); REDIS_CLUSTER_NODES, when set,
//                      names an existing cluster instead
//   --exit-with-stdin  stop when stdin closes: `npm start` uses it so the servers go away with it
import { CommandLine } from "@bank/platform"
import { startPostgres, startRedis, startRedisCluster } from "@bank/test-kit"
import { probePostgres, probeRedis, redactUrl } from "./lib/serviceProbes.ts"

const { values } = CommandLine.parse({
  name: "npm run services --",
  summary: "A private Redis and PostgreSQL on free ports for development (or check REDIS_URL / DATABASE_URL when set).",
  options: {
    "redis-aof": { type: "boolean", description: "Redis with the append-only file (fsync every second), as in production" },
    "redis-cluster": { type: "boolean", description: "a private 6-node Redis Cluster (3 masters, 3 replicas, AOF) instead of one Redis" },
    "exit-with-stdin": { type: "boolean", description: "stop when stdin closes (npm start uses it)" }
  },
  details: "stdout carries `export REDIS_URL=...` / `export DATABASE_URL=...` lines and `# ready`; Ctrl-C removes the servers."
})
const flags = new Set(Object.entries(values).filter(([, on]) => on).map(([flag]) => `--${flag}`))

const say = (line: string) => console.error(line)
const exported: Array<string> = []

const redis = async () => {
  const seeds = process.env.REDIS_CLUSTER_NODES?.trim()
  const given = seeds ? `redis-cluster://${seeds}` : process.env.REDIS_URL
  const cluster = flags.has("--redis-cluster")
  const url = given ?? (cluster ? (await startRedisCluster()).url : (await startRedis({ appendonly: flags.has("--redis-aof") })).url)
  if (!given) exported.push(`export REDIS_URL=${url}`)
  const facts = await probeRedis(url).catch((cause: unknown) => {
    throw new Error(`Redis at ${redactUrl(url)} does not answer: ${String(cause)}`)
  })
  const origin = given
    ? `${seeds ? "REDIS_CLUSTER_NODES" : "REDIS_URL"} (already set)`
    : cluster ? "private 6-node cluster (3 masters, 3 replicas), AOF everysec" : `private, ${flags.has("--redis-aof") ? "AOF everysec" : "no persistence"}`
  const shape = facts.cluster ? `; cluster_state ${facts.cluster.state}, ${facts.cluster.masters} masters, ${facts.cluster.slotsOk} slots ok` : ""
  say(`Redis ${facts.version} at ${redactUrl(url)}: ${origin}; RedisJSON: ${facts.json ? "yes" : "no"}${shape}`)
}

const postgres = async () => {
  const given = process.env.DATABASE_URL
  const url = given ?? (await startPostgres()).url
  if (!given) exported.push(`export DATABASE_URL=${url}`)
  const facts = await probePostgres(url).catch((cause: unknown) => {
    throw new Error(`PostgreSQL at ${redactUrl(url)} does not answer: ${String(cause)}`)
  })
  say(`PostgreSQL ${facts.version} at ${redactUrl(url)}: ${given ? "DATABASE_URL (already set)" : "private"}; wal_level=${facts.walLevel}`)
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
  say("Ctrl-C stops the servers started here and deletes their data")
  // localServices stops the servers on SIGINT/SIGTERM; until then, keep the event loop alive.
  setInterval(() => {}, 1 << 30)
} else {
  say("nothing to start: both URLs were given and answer")
}
