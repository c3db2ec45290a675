// Does the dashboard projector scale by starting processes, and does the dashboard stay as fresh
// as CDC (issue 10)? Runs scripts/bench-projectors.ts on its own private Redis and PostgreSQL
// (after npm start's system has stopped, so the two do not share the cores) and turns its
// results into figures with their bounds:
//   - changes/s draining one backlog with 1 and then 2 projector processes, each process's CPU
//     share (on 2 cores shared with Redis, PostgreSQL and the connector the machine, not the
//     projector, may set the pace: the shares say how far each process was from a core);
//   - with 2 processes, commit-to-dashboard p99 against CDC commit-to-stream p99 at each rate,
//     bound: within 2×, the last rate being the highest the simulator was asked for.
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { BenchContext } from "../Context.ts"
import { fmt, notMeasured } from "../Figures.ts"

const root = fileURLToPath(new URL("../../..", import.meta.url))

/** What `bench-projectors.ts --json` prints. */
export interface ProjectorBench {
  readonly customers: number
  readonly months: number
  readonly partitions: number
  readonly backlog: number
  readonly streams: number
  readonly processes: ReadonlyArray<{
    readonly n: number
    readonly perSecond: number
    readonly wall: number
    readonly cpu: ReadonlyArray<number>
  }>
  readonly freshness: ReadonlyArray<{
    readonly rate: number
    readonly achieved: number
    readonly dashboardP50: number
    readonly dashboardP99: number
    readonly cdcP99: number
    readonly writes: number
  }>
}

/** The freshness bound of issue 10: commit-to-dashboard p99 within this many times CDC's. */
export const FRESHNESS_BOUND = 2
/** What 2 processes must reach compared with 1 to count as scaling. */
export const SCALING_BOUND = 1.5

const run = (args: ReadonlyArray<string>, log: (line: string) => void) =>
  new Promise<ProjectorBench>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/bench-projectors.ts", ...args, "--json"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    child.stdout.on("data", (chunk) => void (stdout += chunk))
    child.stderr.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) if (line.trim()) log(line)
    })
    child.once("close", (code) => {
      const last = stdout.trim().split("\n").at(-1) ?? ""
      if (code === 0 && last.startsWith("{")) resolve(JSON.parse(last) as ProjectorBench)
      else reject(new Error(`bench-projectors.ts exited with ${code}`))
    })
  })

const pct = (share: number) => `${(share * 100).toFixed(0)}%`

export const scaling = async (
  ctx: Pick<BenchContext, "figures" | "method" | "say" | "seconds">,
  options: { readonly customers: number; readonly rates: ReadonlyArray<number> }
) => {
  const group = "Projectors and CDC"
  const args = [
    "--customers",
    String(options.customers),
    "--months",
    "1",
    "--rates",
    options.rates.join(","),
    "--seconds",
    String(Math.max(10, ctx.seconds))
  ]
  ctx.say(`projector scaling: scripts/bench-projectors.ts ${args.join(" ")}`)
  const r = await run(args, (line) => {
    if (line.startsWith("bench-projectors:")) ctx.say(line)
  })
  const [one, two] = r.processes
  if (!one || !two) {
    ctx.figures.push(notMeasured(group, "projector scaling", "changes/s", "bench-projectors.ts reported no drain"))
    return
  }
  const on = `${fmt(r.backlog, 0)} backlog entries on ${r.streams} partitions`
  ctx.figures.push({
    group,
    label: "dashboard projector changes/s, 1 process",
    value: one.perSecond,
    unit: "changes/s",
    detail: `${on} drained in ${one.wall.toFixed(1)} s; CPU share ${one.cpu.map(pct).join(", ")} of a core`
  })
  const ratio = two.perSecond / one.perSecond
  ctx.figures.push({
    group,
    label: "dashboard projector changes/s, 2 processes",
    value: two.perSecond,
    unit: "changes/s",
    detail:
      `the same backlog in ${two.wall.toFixed(1)} s; CPU shares ${two.cpu.map(pct).join(" + ")} of a core` +
      (two.cpu.every((c) => c < 0.8) ? " (no process near a core: the machine set the pace)" : ""),
    baseline: { label: "1 process", value: one.perSecond },
    target: { text: `at least ${SCALING_BOUND}× one process`, met: ratio >= SCALING_BOUND }
  })
  const highest = Math.max(...r.freshness.map((f) => f.achieved))
  for (const f of r.freshness) {
    ctx.figures.push({
      group,
      label:
        `commit-to-dashboard p99 with 2 projector processes, ${fmt(f.rate, 0)} transactions/s asked` +
        (f.achieved === highest ? " (the highest the simulator sustained)" : ""),
      value: f.dashboardP99,
      unit: "ms",
      detail: `simulator achieved ${fmt(f.achieved, 0)}/s; p50 ${f.dashboardP50.toFixed(1)} ms over ${fmt(f.writes, 0)} dashboard writes`,
      ...(f.cdcP99 > 0 ? { baseline: { label: "CDC commit-to-stream p99", value: f.cdcP99 } } : {}),
      target: {
        text: `within ${FRESHNESS_BOUND}× CDC commit-to-stream p99`,
        met: f.cdcP99 > 0 && f.dashboardP99 <= FRESHNESS_BOUND * f.cdcP99
      },
      chart: "latency"
    })
  }
  ctx.method.push(
    `Projector scaling (scripts/bench-projectors.ts, after the system above stopped): ${fmt(r.customers, 0)} seeded customers, ` +
      `${r.partitions} partitions per system; the CDC snapshot is the backlog, drained by 1 dashboard projector process into ` +
      "one read-model generation and then by 2 into the next (new consumer groups from the stream start). CPU share: each " +
      "process's CPU time from /proc over the drain's wall time. Freshness with the 2 processes running: as above, the " +
      `simulator writing at each rate for ${Math.max(10, ctx.seconds)} s.`
  )
}
