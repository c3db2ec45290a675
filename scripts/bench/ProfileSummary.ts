// Where a process's time went, from a V8 CPU profile (`node --cpu-prof`): self time per
// function and per area (package or node_modules library, GC, idle), the shares a benchmark
// report quotes when it names what bounds a figure.
//   npx tsx scripts/bench/ProfileSummary.ts FILE.cpuprofile [--top N]
import { readFileSync } from "node:fs"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: ReadonlyArray<number>
}

export interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
  /** µs, present in what V8 writes; a summary does not need them. */
  readonly startTime?: number
  readonly endTime?: number
}

export interface Share {
  readonly name: string
  /** Fraction of the profile's busy time (idle excluded). */
  readonly share: number
}

export interface Summary {
  /** Fraction of the wall time the thread was idle (waiting for I/O). */
  readonly idle: number
  readonly areas: ReadonlyArray<Share>
  readonly functions: ReadonlyArray<Share>
  /**
   * µs the samples cover, and of those not idle. Samples are wall time: a thread waiting for a
   * core (preempted) counts as busy where it stopped, so busy time can exceed its CPU time.
   */
  readonly sampledMicros: number
  readonly busyMicros: number
}

/** "effect", "@bank/platform", "node:internal", "(garbage collector)" ... for a call frame's url. */
const areaOf = (url: string, name: string): string => {
  if (name === "(garbage collector)" || name === "(program)" || name === "(idle)") return name
  if (url === "") return "(native)"
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (modules) return modules[1]!
  const pkg = /packages\/([^/]+)\//.exec(url)
  if (pkg) return `@bank/${pkg[1]}`
  if (url.startsWith("node:")) return "node:internal"
  return url.replace(/^.*\//, "")
}

export const summarize = (profile: Profile, top = 15): Summary => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const areas = new Map<string, number>()
  const functions = new Map<string, number>()
  let idle = 0
  let total = 0
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame
    total += us
    if (functionName === "(idle)") {
      idle += us
      continue
    }
    const area = areaOf(url, functionName)
    areas.set(area, (areas.get(area) ?? 0) + us)
    const fn =
      `${functionName || "(anonymous)"} ${url ? `${url.replace(/^.*\/(node_modules|packages)\//, "")}:${lineNumber + 1}` : ""}`.trim()
    functions.set(fn, (functions.get(fn) ?? 0) + us)
  }
  const busy = total - idle
  const ranked = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, share: busy > 0 ? us / busy : 0 }))
  return {
    idle: total > 0 ? idle / total : 0,
    areas: ranked(areas),
    functions: ranked(functions),
    sampledMicros: total,
    busyMicros: busy
  }
}

/** The last `seconds` of a CPU profile (the load, not the start-up), summarized. */
export const profileWindow = (file: string | Profile, seconds: number, top?: number): Summary => {
  const profile = typeof file === "string" ? (JSON.parse(readFileSync(file, "utf8")) as Profile) : file
  const end = profile.endTime ?? profile.timeDeltas.reduce((a, b) => a + b, profile.startTime ?? 0)
  const from = end - seconds * 1e6
  let t = profile.startTime ?? 0
  const keep = profile.timeDeltas.map((d) => (t += d) >= from)
  return summarize(
    {
      nodes: profile.nodes,
      samples: profile.samples.filter((_, i) => keep[i]),
      timeDeltas: profile.timeDeltas.filter((_, i) => keep[i])
    },
    top
  )
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`

/** One line for a report: idle share and the biggest areas of the busy time. */
export const text = (s: Summary, areas = 6): string =>
  `idle ${pct(s.idle)} of the time; busy time: ${s.areas
    .slice(0, areas)
    .map((a) => `${a.name} ${pct(a.share)}`)
    .join(", ")}`

export const read = (file: string, top?: number): Summary =>
  summarize(JSON.parse(readFileSync(file, "utf8")) as Profile, top)

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2]
  if (!file || file === "--help") {
    console.error("usage: npx tsx scripts/bench/ProfileSummary.ts FILE.cpuprofile [--top N]")
    process.exit(file ? 0 : 2)
  }
  const topAt = process.argv.indexOf("--top")
  const s = read(file, topAt > 0 ? Number(process.argv[topAt + 1]) : 25)
  console.log(text(s, 12))
  for (const f of s.functions) console.log(`${pct(f.share).padStart(6)}  ${f.name}`)
}
