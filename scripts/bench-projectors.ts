// `npx tsx scripts/bench-projectors.ts [flags]`: does the dashboard projector scale by starting
// processes? On private Redis and PostgreSQL: seed the systems of record, let the CDC connector
// put its snapshot on the partitioned streams (the backlog), then
//   1. drain that backlog with 1 dashboard projector process, then the same backlog again with 2
//      (a new read-model generation, so new consumer groups reading from the start), reporting
//      changes/s and each process's CPU share (on a 2-core machine shared with Redis, PostgreSQL
//      and the connector, the machine is the limit: the CPU shares say how far from it);
//   2. with the 2 processes running, commit-to-dashboard freshness p99 against the CDC connector's
//      commit-to-stream p99 (the baseline) while the core-banking simulator writes at each rate.
//
//   --customers N (1000)  --months M (3)  --partitions P (4)  --rates 100,400,1000  --seconds S (20)
//   --before DIR  also drain the backlog with one process of another checkout (e.g. main before a
//                 change), interleaved with this one's, --rounds R (2) times each: before/after in one run
//   --cpu-prof DIR  write a V8 CPU profile of every projector process into DIR
//   --rates ""    skips the freshness runs; --processes 1 skips the 2-process drain
//   --json        the results as one JSON line on stdout (npm run bench folds them into its report)
import { parseArgs } from "node:util"
import { Cdc } from "@bank/contracts"
import { Generator } from "@bank/core-banking"
import { Database, Keys, Membership } from "@bank/platform"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { loadavg } from "node:os"
import { Histogram } from "../load/engine/Histogram.ts"
import { epochMs, simulate, tail } from "./bench/measure/Freshness.ts"
import type { ProjectorBench } from "./bench/measure/Scaling.ts"
import { connect, sample } from "./bench/Streams.ts"
import { type ChildHandle, startPostgres, startProcess, startRedis } from "@bank/test-kit"

const { values } = parseArgs({
  options: {
    customers: { type: "string" },
    months: { type: "string" },
    partitions: { type: "string" },
    rates: { type: "string" },
    seconds: { type: "string" },
    before: { type: "string" },
    rounds: { type: "string" },
    processes: { type: "string" },
    "cpu-prof": { type: "string" },
    json: { type: "boolean" }
  }
})
const customers = Number(values.customers ?? 1000)
const months = Number(values.months ?? 3)
const partitions = Number(values.partitions ?? Cdc.defaultPartitions)
const rates = (values.rates ?? "100,400,1000").split(",").filter(Boolean).map(Number)
const rounds = Number(values.rounds ?? 2)
const maxProcesses = Number(values.processes ?? 2)
const profileArgs = values["cpu-prof"] ? ["--cpu-prof", "--cpu-prof-dir", values["cpu-prof"]] : []
const seconds = Number(values.seconds ?? 20)
const say = (line: string) => console.error(`bench-projectors: ${line}`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const redisServer = await startRedis()
const pgServer = await startPostgres()
const env = {
  REDIS_URL: redisServer.url,
  DATABASE_URL: pgServer.url,
  CDC_PARTITIONS: String(partitions),
  CDC_METRICS_PORT: "0",
  LOG_LEVEL: "Warn"
}
const redis = await connect(redisServer.url)
const children: Array<ChildHandle> = []
const start = (file: string, extra: Record<string, string> = {}, cwd?: string) => {
  const c = startProcess(file, { ...env, ...extra }, { nodeArgs: profileArgs, ...(cwd ? { cwd } : {}) })
  children.push(c)
  return c
}
process.on("exit", () => children.forEach((c) => c.child.kill("SIGKILL")))

/** CPU seconds a process has used so far (utime + stime from /proc). */
const cpuSeconds = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}
/** `node --import tsx <file>` runs the file in the child itself. */
const workerPid = (c: ChildHandle) => c.child.pid!

say(`seeding ${customers} customers, ${months} months`)
const seeded = await Effect.runPromise(
  Generator.seed(pgServer.url, {
    customers,
    months,
    hashPool: 10,
    scrypt: { N: 1024, r: 8, p: 1, keylen: 32 },
    progress: false
  }).pipe(Effect.provide(Database.layer(pgServer.url)))
)
say(`seeded ${seeded.rows} rows; CDC snapshot onto ${partitions} partitions per system`)
start("packages/cdc/src/main.ts")
while ((await redis.exists(Keys.global("cdc:bank_cdc:snapshot"))) === 0) await sleep(200)
const streams = ["deposits", "cards", "lending", "investments"].flatMap((s) =>
  Cdc.streams(s, partitions).map((spec) => Keys.stream(spec.name))
)
let backlog = 0
for (const key of streams) backlog += Number(await redis.sendCommand(["XLEN", key]))
say(`backlog: ${backlog} entries on ${streams.length} dashboard partitions`)

/** The busiest commands since the last call (INFO commandstats, then CONFIG RESETSTAT): calls, µs per call, total. */
const redisCommandTime = async () => {
  const info = String(await redis.sendCommand(["INFO", "commandstats"]))
  await redis.sendCommand(["CONFIG", "RESETSTAT"])
  return [...info.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/g)]
    .map((m) => ({ name: m[1]!, calls: Number(m[2]), usec: Number(m[3]), per: Number(m[4]) }))
    .sort((a, b) => b.usec - a.usec)
    .slice(0, 6)
    .map((c) => `${c.name} ${c.calls}× ${c.per.toFixed(1)} µs = ${(c.usec / 1e6).toFixed(2)} s`)
    .join(", ")
}

/** Drains the backlog into generation `generation` with `n` processes; changes/s and CPU share per process. */
const drain = async (n: number, generation: number, cwd?: string) => {
  await redis.set(Keys.global("readmodel:dashboard"), String(generation))
  const group = generation <= 1 ? "dashboard" : `dashboard.g${generation}`
  const procs = Array.from({ length: n }, () =>
    start("packages/dashboard/src/main.ts", { DASHBOARD_OWNERSHIP_MS: "5000" }, cwd)
  )
  const readOf = async () => (await sample(redis)).groups.filter((g) => g.group === group && streams.includes(g.stream))
  const read = async () => (await readOf()).reduce((s, g) => s + g.entriesRead, 0)
  // Counted from the moment all n are members (each then owns its share), not from the first
  // one's start: the others' start-up is not the projector's throughput.
  const joinBy = performance.now() + 60_000
  while (Number(await redis.sendCommand(["ZCARD", Membership.membersKey(group)])) < n && performance.now() < joinBy)
    await sleep(20)
  while ((await read()) === 0) await sleep(20)
  const readBefore = Math.min(await read(), backlog)
  await redis.sendCommand(["CONFIG", "RESETSTAT"])
  const started = performance.now()
  const cpuBefore = procs.map((p) => cpuSeconds(workerPid(p)))
  while (true) {
    const groups = await readOf()
    if (groups.length === streams.length && groups.every((g) => g.lag === 0 && g.pending === 0)) break
    await sleep(100)
  }
  const wall = (performance.now() - started) / 1000
  const cpu = procs.map((p, i) => (cpuSeconds(workerPid(p)) - cpuBefore[i]!) / wall)
  say(`Redis time per command while draining: ${await redisCommandTime()}`)
  return { n, procs, wall, perSecond: (backlog - readBefore) / wall, cpu }
}

let generation = 2
const abRuns: Array<{ label: string; perSecond: number; cpu: number }> = []
if (values.before) {
  const loadBefore = loadavg()
  for (let round = 1; round <= rounds; round++) {
    for (const [label, cwd] of [
      ["before", values.before],
      ["after", undefined]
    ] as const) {
      const run = await drain(1, generation++, cwd)
      await Promise.all(run.procs.map((p) => p.stop()))
      abRuns.push({ label, perSecond: run.perSecond, cpu: run.cpu[0]! })
      say(
        `round ${round} ${label}: ${run.perSecond.toFixed(0)} changes/s (${run.wall.toFixed(1)} s, CPU ${(run.cpu[0]! * 100).toFixed(0)}%)`
      )
    }
  }
  const mean = (label: string, per: "wall" | "cpu" = "wall") => {
    const runs = abRuns.filter((r) => r.label === label)
    return runs.reduce((s, r) => s + (per === "wall" ? r.perSecond : r.perSecond / r.cpu), 0) / runs.length
  }
  console.log(
    `A/B (1 process, ${rounds} rounds interleaved, load average ${loadBefore.map((x) => x.toFixed(2)).join(" ")} → ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}): ` +
      `before ${mean("before").toFixed(0)} changes/s, after ${mean("after").toFixed(0)} changes/s (${(mean("after") / mean("before")).toFixed(2)}×); ` +
      `per CPU-second of the projector: before ${mean("before", "cpu").toFixed(0)}, after ${mean("after", "cpu").toFixed(0)} (${(mean("after", "cpu") / mean("before", "cpu")).toFixed(2)}×); ` +
      abRuns.map((r) => `${r.label} ${r.perSecond.toFixed(0)}/s at ${(r.cpu * 100).toFixed(0)}% CPU`).join(", ")
  )
}
const one = await drain(1, generation++)
await Promise.all(one.procs.map((p) => p.stop()))
say(
  `1 process: ${one.perSecond.toFixed(0)} changes/s (${one.wall.toFixed(1)} s, CPU ${(one.cpu[0]! * 100).toFixed(0)}%)`
)
const two = maxProcesses >= 2 ? await drain(2, generation++) : one
if (maxProcesses >= 2)
  say(
    `2 processes: ${two.perSecond.toFixed(0)} changes/s (${two.wall.toFixed(1)} s, CPU ${two.cpu.map((c) => `${(c * 100).toFixed(0)}%`).join(" + ")})`
  )

// Freshness with the two processes running.
const fresh: Array<{
  rate: number
  achieved: number
  dashboardP50: number
  dashboardP99: number
  cdcP99: number
  writes: number
}> = []
for (const rate of rates) {
  const dashboard = new Histogram()
  const commit = new Histogram()
  const seen = new Set<string>()
  const from = performance.timeOrigin + performance.now() + 2000
  const stopDashboard = await tail(redisServer.url, [Keys.stream("dashboard.changes")], (fields, arrived) => {
    const asOf = (JSON.parse(fields.data ?? "{}") as { asOf?: string | null }).asOf
    if (asOf && arrived >= from) dashboard.record((arrived - epochMs(asOf)) * 1000)
  })
  const stopCdc = await tail(redisServer.url, streams, (fields, arrived) => {
    if (fields.type !== "TransactionCommitted" || arrived < from) return
    const data = JSON.parse(fields.data ?? "{}") as { commitLsn?: string; commitTime?: string }
    if (!data.commitLsn || !data.commitTime || seen.has(data.commitLsn)) return
    seen.add(data.commitLsn)
    commit.record((arrived - epochMs(data.commitTime)) * 1000)
  })
  const summary = await simulate(env, rate, seconds)
  await sleep(1500)
  await stopDashboard()
  await stopCdc()
  const ms = (h: Histogram, p: number) => h.percentile(p) / 1000
  fresh.push({
    rate,
    achieved: summary.achievedRate,
    dashboardP50: ms(dashboard, 50),
    dashboardP99: ms(dashboard, 99),
    cdcP99: ms(commit, 99),
    writes: dashboard.count
  })
  say(
    `rate ${rate}/s (achieved ${summary.achievedRate.toFixed(0)}/s): dashboard p99 ${ms(dashboard, 99).toFixed(1)} ms vs CDC p99 ${ms(commit, 99).toFixed(1)} ms`
  )
}

const pct = (c: number) => `${(c * 100).toFixed(0)}%`
const text = values.json ? console.error : console.log
text(
  [
    `Dashboard projectors: ${customers} customers, ${months} months, ${backlog.toLocaleString("en-US")} backlog entries on ${streams.length} partitions (${partitions} per system), one run`,
    `  1 process : ${one.perSecond.toFixed(0)} changes/s in ${one.wall.toFixed(1)} s; CPU share ${pct(one.cpu[0]!)} of a core`,
    `  2 processes: ${two.perSecond.toFixed(0)} changes/s in ${two.wall.toFixed(1)} s; CPU shares ${two.cpu.map(pct).join(" + ")} of a core`,
    `  scaling 2 vs 1: ${(two.perSecond / one.perSecond).toFixed(2)}x`,
    `Freshness with 2 processes (commit → dashboard write announced, vs CDC commit → stream entry):`,
    ...fresh.map(
      (f) =>
        `  ${String(f.rate).padStart(5)}/s target, ${f.achieved.toFixed(0).padStart(5)}/s achieved: dashboard p50 ${f.dashboardP50.toFixed(1)} ms, p99 ${f.dashboardP99.toFixed(1)} ms; ` +
        `CDC p99 ${f.cdcP99.toFixed(1)} ms; ratio ${(f.dashboardP99 / f.cdcP99).toFixed(2)}x (${f.writes} writes)`
    )
  ].join("\n")
)

if (values.json) {
  const result: ProjectorBench = {
    customers,
    months,
    partitions,
    backlog,
    streams: streams.length,
    processes: [one, two].map((d) => ({ n: d.n, perSecond: d.perSecond, wall: d.wall, cpu: d.cpu })),
    freshness: fresh
  }
  console.log(JSON.stringify(result))
}

await Promise.all(children.map((c) => c.stop()))
await redis.close()
await redisServer.stop()
await pgServer.stop()
process.exit(0)
