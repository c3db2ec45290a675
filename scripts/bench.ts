// `npm run bench`: the performance report in one command. Starts the whole system with
// generated data exactly as `npm start` does (scripts/bench/Stack.ts), waits until every
// consumer group has digested it, runs every measurement in one run, stops everything and writes
// docs/bench/REPORT.md, docs/bench/chart.svg and docs/bench/results.json.
//
//   --customers N    demo customers to seed (default 1000)
//   --seconds S      length of each throughput run (default 10), after --warmup W (default 2)
//   --connections C  keep-alive connections of a throughput run (default 32)
//   --population P   customers to extrapolate memory to (default 10,000,000)
//   --out DIR        where the report goes (default docs/bench)
//
// A measurement whose capability is not built yet is reported as "not measured: <why>", never
// estimated. The process output of the system goes to a log file named at the start.
import { mkdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { CommandLine } from "@bank/platform"
import pg from "pg"
import * as Chart from "./bench/Chart.ts"
import { benchContext } from "./bench/Context.ts"
import { notMeasured, type Figure, type Group } from "./bench/Figures.ts"
import { idleNoise, machineState } from "./bench/Machine.ts"
import { dashboard } from "./bench/measure/Dashboard.ts"
import { ceiling, tokenCheck } from "./bench/measure/Edge.ts"
import { edgeReads } from "./bench/measure/EdgeReads.ts"
import { freshness } from "./bench/measure/Freshness.ts"
import { loginThroughput, prefetchedAccounts, tokenPool } from "./bench/measure/Login.ts"
import { memory } from "./bench/measure/MemoryFigures.ts"
import { cdcBurst } from "./bench/measure/CdcBurst.ts"
import { profiledProjector, projectors } from "./bench/measure/Projectors.ts"
import { scaling } from "./bench/measure/Scaling.ts"
import * as Report from "./bench/Report.ts"
import { numberOf, progress, runOptions } from "./bench/RunOptions.ts"
import { startStack } from "./bench/Stack.ts"
import { connect, sample, waitCaughtUp, type RedisConnection, type Sample } from "./bench/Streams.ts"

const { values } = CommandLine.parse({
  name: "npm run bench --",
  summary: "Start the whole system on private servers, measure every figure against its baseline, write docs/bench/.",
  options: {
    ...runOptions({ customers: 1000, seconds: 10, warmup: 2, connections: 32 }),
    population: { type: "string", value: "N", description: "logged-in customers the reads spread over" },
    out: { type: "string", value: "DIR", description: "where the report goes (default docs/bench)" }
  }
})
const positive = (flag: string, text: string | undefined, fallback: number) => numberOf("bench", flag, text, fallback)
const customers = positive("customers", values.customers, 1000)
const seconds = positive("seconds", values.seconds, 10)
const warmupSeconds = positive("warmup", values.warmup, 2)
const connections = positive("connections", values.connections, 32)
const population = positive("population", values.population, 10_000_000)
const outDir = values.out ?? fileURLToPath(new URL("../docs/bench", import.meta.url))
const poolUsers = Math.min(200, Math.max(1, Math.floor(customers / 5)))

const began = performance.now()
const startedAt = new Date()
const say = progress("bench")
const logFile = join(tmpdir(), `bank-bench-${startedAt.toISOString().replace(/[:.]/g, "-")}.log`)

const machine = machineState()
say(
  `machine: ${machine.cores} × ${machine.cpuModel}, load ${machine.loadAverage.map((x) => x.toFixed(2)).join(" ")}; measuring the noise for 2 s`
)
const noise = await idleNoise()

// Watch the consumer groups from the moment Redis is up: the seeded data's CDC snapshot is the
// backlog whose draining measures the projectors.
const samples: Array<Sample> = []
let sampling = true
let sampler: Promise<void> = Promise.resolve()
say(`starting the system (npm start with ${customers} customers); its output goes to ${logFile}`)
const stack = await startStack({
  customers,
  logFile,
  onServers: ({ redisUrl }) => {
    sampler = (async () => {
      const watcher = await connect(redisUrl)
      while (sampling) {
        samples.push(await sample(watcher).catch(() => ({ at: performance.now(), groups: [] })))
        await new Promise((r) => setTimeout(r, 250))
      }
      await watcher.close()
    })()
  }
}).catch((error: unknown) => {
  console.error(`bench: the system did not start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
say(`system ready after ${stack.startSeconds.toFixed(1)} s; waiting until every consumer group has caught up`)
const redis: RedisConnection = await connect(stack.redis.url)
const tail = await waitCaughtUp(redis, { timeoutMs: 600_000 })
sampling = false
await sampler

const ctx = benchContext(stack, redis, { seconds, warmupSeconds, connections, say })

/** Runs one measurement; if it throws, its figures say so rather than the whole run dying. */
const attempt = async (group: Group, label: string, unit: string, measure: () => Promise<unknown>) => {
  try {
    await measure()
  } catch (error) {
    say(`${label} failed: ${error instanceof Error ? error.message : String(error)}`)
    ctx.figures.push(
      notMeasured(
        group,
        label,
        unit,
        `the measurement failed: ${error instanceof Error ? error.message : String(error)}`
      )
    )
  }
}

let hono: Awaited<ReturnType<typeof ceiling>>["hono"] | undefined
await attempt("Edge ceiling", "edge ceiling", "req/s", async () => (hono = (await ceiling(ctx)).hono))
let loginFailure: string | undefined = "the token pool was not built"
await attempt("Login", "token pool", "logins", async () => (loginFailure = await tokenPool(ctx, poolUsers)))
let accountsFailure: string | undefined
if (!loginFailure) accountsFailure = await prefetchedAccounts(ctx).catch((error: unknown) => String(error))
if (hono) {
  const h = hono
  await attempt("Token check", "token check", "req/s", () => tokenCheck(ctx, h, loginFailure))
  await attempt("Edge against the lean reference", "edge against the lean reference", "req/s", () =>
    edgeReads(ctx, loginFailure, accountsFailure)
  )
  await attempt("Dashboard", "GET /v1/dashboard", "req/s", () => dashboard(ctx, h, loginFailure))
}
await attempt("Login", "login throughput", "logins/s", () => loginThroughput(ctx, customers, poolUsers, loginFailure))
await attempt("Projectors and CDC", "projector throughput", "entries/s", () => projectors(ctx, [...samples, ...tail]))
await attempt("Projectors and CDC", "commit-to-dashboard freshness", "ms", () => freshness(ctx, loginFailure))
await attempt("Memory", "memory", "bytes", () => memory(ctx, population))
// After memory: the profiled drain writes documents of a throw-away generation (deleted after).
await attempt("Projectors and CDC", "dashboard projector alone, profiled", "entries/s", () => profiledProjector(ctx))
await attempt("Projectors and CDC", "CDC connector in an insert burst", "changes/s", () => cdcBurst(ctx))

say("measuring the noise again for 2 s")
const noiseAfter = await idleNoise()
const redisVersion = /redis_version:(\S+)/.exec(String(await redis.sendCommand(["INFO", "server"])))?.[1] ?? "unknown"
const db = new pg.Client({ connectionString: stack.postgres.url })
await db.connect()
const postgresVersion =
  (await db.query<{ server_version: string }>("SHOW server_version")).rows[0]?.server_version ?? "unknown"
await db.end()
await redis.close()
say("stopping the system")
await stack.stop()
// On its own Redis and PostgreSQL, with the cores to itself now.
await attempt("Projectors and CDC", "projector scaling", "changes/s", () =>
  scaling(ctx, { customers: Math.min(customers, 1000), rates: [100, 400, 1000] })
)

const order: ReadonlyArray<Group> = [
  "Edge ceiling",
  "Token check",
  "Edge against the lean reference",
  "Dashboard",
  "Login",
  "Projectors and CDC",
  "Memory"
]
const figures: Array<Figure> = [...ctx.figures].sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group))
const minutes = (performance.now() - began) / 60_000
const subtitle = `${machine.cores} cores (${machine.cpuModel}), ${startedAt.toISOString().slice(0, 10)}, ${customers} customers`
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, "chart.svg"), Chart.render(figures, subtitle))
writeFileSync(
  join(outDir, "REPORT.md"),
  Report.render({
    startedAt,
    minutes,
    machine,
    machineAfter: machineState(),
    noise,
    noiseAfter,
    servers: { redis: redisVersion, postgres: postgresVersion },
    stack: {
      processes: [...stack.seen].filter((n) => n !== "start" && n !== "services"),
      skipped: stack.skipped,
      customers,
      startSeconds: stack.startSeconds
    },
    settings: [
      `throughput runs: ${seconds} s after ${warmupSeconds} s warm-up, ${connections} connections (logins: 16)`,
      "Redis: private, append-only file with fsync every second; PostgreSQL: private, wal_level=logical",
      "IDENTITY_TRUSTED_PROXY_HOPS=1 (the load generator plays many phones behind one load balancer); other settings at their defaults"
    ],
    figures,
    method: ctx.method,
    chartFile: "chart.svg"
  })
)
writeFileSync(
  join(outDir, "results.json"),
  `${JSON.stringify({ startedAt, minutes, machine, noise, figures }, null, 2)}\n`
)
say(`done in ${minutes.toFixed(1)} min: ${join(outDir, "REPORT.md")}`)
process.exit(0)
