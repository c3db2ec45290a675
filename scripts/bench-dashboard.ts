// `npx tsx scripts/bench-dashboard.ts [flags]`: the dashboard benchmark (not a test). On private
// Redis and PostgreSQL servers it seeds the systems of record, runs the CDC connector, the
// dashboard projector and an edge as separate processes, and reports, in one run:
//   1. projector throughput: the initial snapshot drained from the CDC streams into documents;
//   2. GET /v1/dashboard from Redis next to the same document assembled from PostgreSQL by the
//      edge on each request (PgDashboard: 8 indexed queries), requests/s and p50/p99, same
//      token check, same load (keep-alive clients, a different customer per request);
//   3. projector throughput and commit-to-dashboard freshness p50/p99 while the core-banking
//      simulator writes at --rate transactions/s (freshness: a change's commit time to the
//      moment its dashboard write was announced on `dashboard.changes`).
//
//   --customers N (1000)  --months M (3)  --seconds S per HTTP run (10)  --concurrency C (32)
//   --rate R (1000)  --simulate S seconds (15)
// `--serve` is the edge child's own mode (identity token check, the dashboard routes and the
// PostgreSQL route /v1/bench/dashboard-from-postgres), not for people.
import { CommandLine, Database, Keys, RedisClient } from "@bank/platform"
import * as Dashboard from "@bank/dashboard"
import { callerOf, PgDashboard } from "@bank/dashboard"
import type { Routes } from "@bank/http"
import { EdgeServer } from "@bank/http"
import * as Identity from "@bank/identity"
import { Cdc } from "@bank/contracts"
import { Generator } from "@bank/core-banking"
import { Effect, Layer, References } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { Agent, request } from "node:http"
import { createClient } from "redis"
import { freePort, startPostgres, startRedis } from "@bank/test-kit"

const { values } = CommandLine.parse({
  name: "npx tsx scripts/bench-dashboard.ts",
  summary:
    "Dashboard benchmark on private servers: reads from Redis against the same dashboard assembled from PostgreSQL.",
  options: {
    serve: { type: "boolean", description: "the edge child's own mode (not for people)" },
    customers: { type: "string", value: "N", description: "customers to seed" },
    months: { type: "string", value: "M", description: "months of history" },
    seconds: { type: "string", value: "S", description: "seconds per run" },
    concurrency: { type: "string", value: "N", description: "requests in flight" },
    rate: { type: "string", value: "R", description: "requests per second of the paced run" },
    simulate: { type: "string", value: "R", description: "simulator activities per second meanwhile" }
  }
})
const root = new URL("..", import.meta.url).pathname
const quiet = Layer.succeed(References.MinimumLogLevel, "Warn")

// ── The edge child ─────────────────────────────────────────────────────────────────────────
if (values.serve) {
  const fromPostgres: Routes<Database.Database> = (app, run) => {
    app.get("/v1/bench/dashboard-from-postgres", (c) =>
      run(
        c,
        Effect.gen(function* () {
          const { customerId } = yield* callerOf(c)
          const assembled = yield* PgDashboard.assemble(customerId)
          return c.json({ ...assembled, asOf: new Date().toISOString() })
        })
      )
    )
  }
  const routes: ReadonlyArray<
    Routes<
      Identity.RouteServices | Dashboard.RouteServices | Database.Database,
      Identity.ProblemTag | Dashboard.ProblemTag
    >
  > = [
    (app, run) => {
      app.use("/v1/*", Identity.tokenCheck(run))
    },
    Identity.identityRoutes,
    Dashboard.dashboardRoutes(),
    fromPostgres
  ]
  await Effect.runPromise(
    Layer.launch(
      EdgeServer.layer({
        port: Number(process.env.PORT),
        hostname: "127.0.0.1",
        problems: { ...Identity.problems, ...Dashboard.problems },
        routes
      }).pipe(
        Layer.provide(Layer.mergeAll(Identity.edgeLayer, Dashboard.edgeLayer)),
        Layer.provide(Identity.IdentityConfig.layer(Identity.IdentityConfig.make({ activityCoalesceMs: 3_600_000 }))),
        Layer.provide(
          Layer.mergeAll(
            RedisClient.layer(process.env.REDIS_URL!),
            Database.layer(process.env.DATABASE_URL!, { maxConnections: 20 })
          )
        ),
        Layer.provide(quiet)
      )
    )
  )
  process.exit(0)
}

// ── The orchestrator ───────────────────────────────────────────────────────────────────────
const customers = Number(values.customers ?? 1000)
const months = Number(values.months ?? 3)
const seconds = Number(values.seconds ?? 10)
const concurrency = Number(values.concurrency ?? 32)
const rate = Number(values.rate ?? 1000)
const simulateSeconds = Number(values.simulate ?? 15)
const log = (line: string) => console.error(`bench: ${line}`)
const children: Array<ChildProcess> = []
process.on("exit", () => children.forEach((c) => c.kill("SIGKILL")))

const child = (file: string, args: Array<string>, env: Record<string, string>) => {
  const c = spawn(process.execPath, ["--import", "tsx", file, ...args], {
    cwd: root,
    env: { ...process.env, LOG_FORMAT: "json", LOG_LEVEL: "Warn", ...env },
    stdio: ["ignore", "pipe", "inherit"]
  })
  children.push(c)
  return c
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const quantile = (sorted: ReadonlyArray<number>, q: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

const redisServer = await startRedis()
const pgServer = await startPostgres()
const env = { REDIS_URL: redisServer.url, DATABASE_URL: pgServer.url }
const redis = createClient({ url: redisServer.url })
await redis.connect()

log(`seeding ${customers} customers with ${months} months of history`)
const seeded = await Effect.runPromise(
  Generator.seed(pgServer.url, {
    customers,
    months,
    hashPool: 10,
    scrypt: { N: 1024, r: 8, p: 1, keylen: 32 },
    progress: false
  }).pipe(Effect.provide(Database.layer(pgServer.url)))
)
log(`seeded ${seeded.rows.toLocaleString("en-US")} rows in ${seeded.seconds.toFixed(1)} s`)

const partitions = Number(process.env.CDC_PARTITIONS ?? Cdc.defaultPartitions)
const streamKeys = Dashboard.Dashboard.systems.flatMap((system) =>
  Cdc.streams(system, partitions).map((spec) => Keys.stream(spec.name))
)
const groupState = async () => {
  let read = 0
  let lag = 0
  for (const key of streamKeys) {
    const groups = (await redis.sendCommand(["XINFO", "GROUPS", key]).catch(() => [])) as Array<Array<unknown>>
    const group = groups
      .map((g) => Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [g[2 * i], g[2 * i + 1]])))
      .find((g) => g.name === "dashboard")
    read += Number(group?.["entries-read"] ?? 0)
    lag += Number(group?.lag ?? Number.MAX_SAFE_INTEGER)
  }
  return { read, lag }
}
const streamLengths = async () => {
  let n = 0
  for (const key of streamKeys) n += Number(await redis.xLen(key))
  return n
}

// 1. The snapshot, then the projector draining it.
child("packages/cdc/src/main.ts", [], { ...env, CDC_METRICS_PORT: "0" })
while ((await redis.exists(Keys.global("cdc:bank_cdc:snapshot"))) === 0) await sleep(200)
const snapshotEntries = await streamLengths()
log(`CDC snapshot in the streams: ${snapshotEntries.toLocaleString("en-US")} entries on the four product streams`)
child("packages/dashboard/src/main.ts", [], env)
// Timed from its first applied batch, not from the process start (loading TypeScript takes a second).
while ((await groupState()).read === 0) await sleep(20)
const projectorStarted = performance.now()
while (true) {
  const { read, lag } = await groupState()
  if (read >= snapshotEntries && lag === 0) break
  await sleep(100)
}
const drainSeconds = (performance.now() - projectorStarted) / 1000
const snapshotRate = snapshotEntries / drainSeconds

// 2. GET /v1/dashboard from Redis next to the same from PostgreSQL.
const port = await freePort()
child("scripts/bench-dashboard.ts", ["--serve"], { ...env, PORT: String(port) })
const tokens: Array<string> = []
for (let id = 1; id <= customers; id++) {
  const token = Identity.Secrets.newToken()
  await redis.hSet(Identity.IdentityKeys.accessToken(Identity.Secrets.hashToken(token)), {
    c: String(id),
    s: `bench-session-${id}`,
    r: "customer"
  })
  tokens.push(token)
}
const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
const get = (path: string, token: string) =>
  new Promise<number>((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, agent, headers: { Authorization: `Bearer ${token}` } },
      (res) => {
        res.resume()
        res.on("end", () => resolve(res.statusCode ?? 0))
      }
    )
    req.on("error", reject)
    req.end()
  })
while (
  !(await get("/healthz", "x").then(
    (s) => s === 200,
    () => false
  ))
)
  await sleep(200)

const load = async (path: string, forSeconds: number) => {
  const latencies: Array<number> = []
  let failures = 0
  let next = 0
  const until = performance.now() + forSeconds * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const started = performance.now()
        const status = await get(path, tokens[next++ % tokens.length]!)
        if (status === 200) latencies.push(performance.now() - started)
        else failures++
      }
    })
  )
  latencies.sort((a, b) => a - b)
  return {
    rps: latencies.length / forSeconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    ok: latencies.length,
    failures
  }
}
await load("/v1/dashboard", 2) // warm-up of both paths
await load("/v1/bench/dashboard-from-postgres", 2)
const fromRedis = await load("/v1/dashboard", seconds)
const fromPostgres = await load("/v1/bench/dashboard-from-postgres", seconds)

// 3. Freshness and throughput while the simulator writes.
const changesKey = Keys.stream(Dashboard.DashboardChanges.changes.name)
const [lastBefore] = (await redis.sendCommand(["XREVRANGE", changesKey, "+", "-", "COUNT", "1"])) as Array<
  [string, Array<string>]
>
const depositsKeys = Cdc.streams("deposits", partitions).map((spec) => Keys.stream(spec.name))
const cdcBefore = await Promise.all(
  depositsKeys.map(
    async (key) =>
      ((await redis.sendCommand(["XREVRANGE", key, "+", "-", "COUNT", "1"])) as Array<[string, Array<string>]>)[0]
  )
)
const before = await groupState()
const simulationStarted = performance.now()
const simulator = child(
  "scripts/simulate.ts",
  ["--rate", String(rate), "--duration", `${simulateSeconds}s`, "--seed", "bench"],
  env
)
let simulatorSummary = ""
simulator.stdout!.on("data", (chunk: Buffer) => (simulatorSummary += chunk.toString()))
await new Promise((r) => simulator.once("exit", r))
while ((await groupState()).lag !== 0) await sleep(100)
const simulationSeconds = (performance.now() - simulationStarted) / 1000
const after = await groupState()
const freshness: Array<number> = []
let from = lastBefore ? `(${lastBefore[0]}` : "-"
while (true) {
  const page = (await redis.sendCommand(["XRANGE", changesKey, from, "+", "COUNT", "5000"])) as Array<
    [string, Array<string>]
  >
  for (const [id, fields] of page) {
    const data = JSON.parse(fields[fields.indexOf("data") + 1]!) as { asOf: string | null }
    if (data.asOf) freshness.push(Number(id.split("-")[0]) - Date.parse(data.asOf))
  }
  if (page.length < 5000) break
  from = `(${page.at(-1)![0]}`
}
freshness.sort((a, b) => a - b)
// The part of it that is CDC's: a commit to its entry in the stream (cdc.deposits, most traffic).
const cdcLatency: Array<number> = []
for (const [i, depositsKey] of depositsKeys.entries()) {
  from = cdcBefore[i] ? `(${cdcBefore[i]![0]}` : "-"
  while (true) {
    const page = (await redis.sendCommand(["XRANGE", depositsKey, from, "+", "COUNT", "5000"])) as Array<
      [string, Array<string>]
    >
    for (const [id, fields] of page) {
      if (fields[fields.indexOf("type") + 1] !== "TransactionCommitted") continue
      const data = JSON.parse(fields[fields.indexOf("data") + 1]!) as { commitTime: string }
      cdcLatency.push(Number(id.split("-")[0]) - Date.parse(data.commitTime))
    }
    if (page.length < 5000) break
    from = `(${page.at(-1)![0]}`
  }
}
cdcLatency.sort((a, b) => a - b)
const simulated = JSON.parse(simulatorSummary.trim().split("\n").at(-1) ?? "{}") as {
  achievedRate?: number
  booked?: number
}

// ── Report ─────────────────────────────────────────────────────────────────────────────────
const ms = (n: number) => `${n.toFixed(2)} ms`
const row = (name: string, r: Awaited<ReturnType<typeof load>>) =>
  `  ${name.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${ms(r.p50).padStart(9)}   p99 ${ms(r.p99).padStart(9)}   (${r.ok} ok, ${r.failures} failed)`
console.log(
  [
    `Dashboard benchmark: ${customers} customers, ${months} months of history, ${seeded.rows.toLocaleString("en-US")} rows; ${concurrency} keep-alive clients, ${seconds} s per run`,
    `GET /v1/dashboard, a different customer each request, same token check on both:`,
    row("from Redis (the read model)", fromRedis),
    row("assembled from PostgreSQL", fromPostgres),
    `  Redis vs PostgreSQL: ${(fromRedis.rps / fromPostgres.rps).toFixed(1)}x the requests/s, p99 ${(fromPostgres.p99 / fromRedis.p99).toFixed(1)}x lower`,
    `Projector, initial snapshot: ${snapshotEntries.toLocaleString("en-US")} CDC entries into ${customers} documents in ${drainSeconds.toFixed(1)} s = ${snapshotRate.toFixed(0)} changes/s`,
    `Projector while the simulator writes (target ${rate} tx/s, achieved ${(simulated.achievedRate ?? 0).toFixed(0)} tx/s, ${simulated.booked ?? 0} booked):`,
    `  ${(after.read - before.read).toLocaleString("en-US")} CDC entries applied in ${simulationSeconds.toFixed(1)} s = ${((after.read - before.read) / simulationSeconds).toFixed(0)} entries/s`,
    `  commit-to-dashboard freshness over ${freshness.length} dashboard writes: p50 ${ms(quantile(freshness, 0.5))}, p99 ${ms(quantile(freshness, 0.99))}, max ${ms(freshness.at(-1) ?? Number.NaN)}`,
    `  of which CDC (commit to entry in cdc.deposits, ${cdcLatency.length} transactions): p50 ${ms(quantile(cdcLatency, 0.5))}, p99 ${ms(quantile(cdcLatency, 0.99))}`
  ].join("\n")
)

for (const c of children) c.kill("SIGTERM")
await sleep(500)
await redis.close()
await redisServer.stop()
await pgServer.stop()
process.exit(0)
