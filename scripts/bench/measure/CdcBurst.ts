// The CDC connector in a burst (target 5 of issue 12): `scripts/bench-cdc.ts --burst-only --json`
// in a process of its own, on its own private PostgreSQL and Redis (the burst must not share a
// database with the running system): the same inserts without a replication slot (the raw
// insert rate, the baseline) and then with the connector streaming them to Redis; the figure is
// the connector's end-to-end rate, first commit to last entry in Redis.
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import type { BenchContext } from "../Context.ts"
import { fmt } from "../Figures.ts"
import { cpuMeter } from "../Machine.ts"
import * as ProfileSummary from "../ProfileSummary.ts"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const TARGET = 0.8

export interface BurstResult {
  readonly changes: number
  readonly rawPerSecond: number
  readonly burstWriterPerSecond: number
  readonly burstCdcPerSecond: number
  readonly ratio: number
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number }
  readonly batchSize: number
  readonly changesPerBatch?: number
  readonly connectorMicrosecondsPerChange?: number
  /** µs of CPU a change over the burst, by process: cdc, postgres backends / walsender / background, redis, writers. */
  readonly cpuMicrosecondsPerChange?: Readonly<Record<string, number>>
  /** The connector's busy time in a second, profiled burst. */
  readonly profile?: ProfileSummary.Summary
  readonly profiledConnectorMicrosecondsPerChange?: number
}

const burst = (changes: number, log: (line: string) => void) =>
  new Promise<BurstResult>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "scripts/bench-cdc.ts", "--burst-only", "--json", "--changes", String(changes)],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] }
    )
    let result: string | undefined
    createInterface({ input: child.stdout! }).on("line", (line) => (result = line))
    createInterface({ input: child.stderr! }).on("line", log)
    child.once("exit", (code) =>
      code === 0 && result ? resolve(JSON.parse(result)) : reject(new Error(`bench-cdc.ts exited with ${code}`))
    )
  })

const pct = (x: number) => `${(x * 100).toFixed(1)}%`

/** Where the cores went over the burst: µs of CPU a change by process, and their sum. */
const cpuSplit = (r: BurstResult) => {
  const cpu = Object.entries(r.cpuMicrosecondsPerChange ?? {}).sort((a, b) => b[1] - a[1])
  if (cpu.length === 0) return ""
  const total = cpu.reduce((s, [, us]) => s + us, 0)
  const raw = r.rawPerSecond
  return (
    `CPU a change ${fmt(total, 1)} µs (${cpu.map(([name, us]) => `${name} ${fmt(us, 1)}`).join(", ")}), ` +
    `i.e. ${fmt((total * r.burstCdcPerSecond) / 1e6, 2)} cores at the burst's rate; the raw rate ${fmt(raw, 0)}/s at this cost would take ${fmt((total * raw) / 1e6, 2)} cores`
  )
}

/** The connector's profiled burst: its busy time by area and its top functions. */
const profileText = (r: BurstResult) =>
  r.profile === undefined
    ? ""
    : `; profile of the connector in a second burst (${r.profiledConnectorMicrosecondsPerChange === undefined ? "" : `${fmt(r.profiledConnectorMicrosecondsPerChange, 1)} µs a change profiled: `}${ProfileSummary.text(r.profile, 5)}; top self time: ${r.profile.functions
        .slice(0, 8)
        .map((f) => `${f.name} ${pct(f.share)}`)
        .join(", ")})`

/** Who kept the burst below the raw rate: the writers (the connector kept up) or the connector. */
export const bound = (r: BurstResult) => {
  const keptUp = r.burstCdcPerSecond / r.burstWriterPerSecond
  const split = cpuSplit(r)
  return (
    (keptUp >= 0.95
      ? `the connector kept up with the writers (${fmt(keptUp, 2)}× their rate), which ran at ${fmt(r.burstWriterPerSecond / r.rawPerSecond, 2)}× their raw rate: PostgreSQL shares the two cores with the connector and Redis`
      : `the connector (${fmt(keptUp, 2)}× the writers' rate${r.connectorMicrosecondsPerChange === undefined ? "" : `, ${fmt(r.connectorMicrosecondsPerChange, 1)} µs of CPU a change`})`) +
    (split ? `; ${split}` : "") +
    profileText(r)
  )
}

export const cdcBurst = async (ctx: BenchContext, changes = 30_000) => {
  ctx.say(`CDC burst: ${fmt(changes, 0)} inserts without and then with the connector (private servers)`)
  const meter = cpuMeter()
  const r = await burst(changes, ctx.log("bench-cdc"))
  const met = r.ratio >= TARGET
  ctx.figures.push({
    group: "Projectors and CDC",
    label: "CDC connector in an insert burst (commit → Redis)",
    value: r.burstCdcPerSecond,
    unit: "changes/s",
    detail: `${fmt(r.changes, 0)} inserts, 5 a transaction from 4 connections; writers ${fmt(r.burstWriterPerSecond, 0)}/s meanwhile; commit→entry p50 ${fmt(r.latencyMs.p50, 0)} ms, p99 ${fmt(r.latencyMs.p99, 0)} ms; batches of at most ${r.batchSize} entries${r.changesPerBatch === undefined ? "" : `, ${fmt(r.changesPerBatch, 1)} changes a batch on average`}${r.connectorMicrosecondsPerChange === undefined ? "" : `; connector CPU ${fmt(r.connectorMicrosecondsPerChange, 1)} µs a change`}`,
    baseline: { label: "raw inserts, no replication slot", value: r.rawPerSecond },
    target: {
      text: `at least ${TARGET}× the raw insert rate${met ? "" : `; bound: ${bound(r)}`}`,
      met
    },
    cpu: meter(),
    chart: "stream"
  })
  ctx.method.push(
    "CDC burst: `scripts/bench-cdc.ts --burst-only` on its own private PostgreSQL (wal_level=logical) and Redis (AOF everysec): the inserts (5 rows a transaction, 4 writer connections) once with no replication slot (the raw rate), then the same number with the connector process streaming; the connector's rate is the changes divided by the time from the first transaction's commit to the last entry's XADD. " +
      "CPU a change: each process's user + system time over the burst (/proc; PostgreSQL's processes by their titles: the backends serving the writers, the walsender decoding for the connector, the background processes; the writers are bench-cdc.ts itself) divided by the changes. " +
      "The connector's profile: the same burst again through a freshly started connector under `node --cpu-prof` (so the profiler's cost stays out of the figure), its busy time over the burst by area and the top functions by self time."
  )
}
