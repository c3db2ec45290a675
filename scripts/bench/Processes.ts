// CPU time per process of the system while a measurement runs, from /proc: which process a
// figure is bound by (the identity actor's scrypt, the edge's event loop, PostgreSQL...). Every
// process is named after the entry file it runs (packages/<name>/... or scripts/<name>.ts);
// Redis and PostgreSQL by their port and data directory; the benchmark's own process is the
// load generator.
import { readdirSync, readFileSync } from "node:fs"

const TICKS_PER_SECOND = 100 // USER_HZ, 100 on every Linux build we run on

interface Proc {
  readonly ppid: number
  readonly ticks: number
  readonly cmdline: string
}

const snapshot = (): Map<number, Proc> => {
  const procs = new Map<number, Proc>()
  let entries: Array<string> = []
  try {
    entries = readdirSync("/proc").filter((d) => /^\d+$/.test(d))
  } catch {
    return procs // not Linux: no breakdown
  }
  for (const dir of entries) {
    try {
      const stat = readFileSync(`/proc/${dir}/stat`, "utf8")
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      const cmdline = readFileSync(`/proc/${dir}/cmdline`, "utf8").split("\0").join(" ").trim()
      procs.set(Number(dir), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), cmdline })
    } catch {
      // exited meanwhile
    }
  }
  return procs
}

export interface Known {
  readonly redisPort: number
  readonly postgresDir: string
}

/** The name a process is reported under, or undefined when it is not ours. */
const nameOf = (pid: number, procs: Map<number, Proc>, known: Known): string | undefined => {
  const p = procs.get(pid)
  if (!p) return undefined
  if (pid === process.pid) return "load generator"
  if (/(^|\/)redis-server /.test(p.cmdline) && p.cmdline.includes(`:${known.redisPort}`)) return "redis"
  if (p.cmdline.includes(known.postgresDir)) return "postgres"
  const parent = procs.get(p.ppid)
  if (parent?.cmdline.includes(known.postgresDir)) return "postgres"
  // Ours when the benchmark is among its ancestors.
  let ancestor = p.ppid
  for (let hops = 0; hops < 10 && ancestor > 1 && ancestor !== process.pid; hops++)
    ancestor = procs.get(ancestor)?.ppid ?? 0
  if (ancestor !== process.pid) return undefined
  const file = /(?:^| )((?:packages|scripts)\/\S+\.(?:ts|mjs))/.exec(p.cmdline)?.[1]
  if (!file) return undefined // tsx's and npm's wrappers: idle
  const pkg = /^packages\/([^/]+)\//.exec(file)?.[1]
  if (pkg) return pkg
  const script = /([\w-]+)\.(?:ts|mjs)$/.exec(file)![1]!
  return file.startsWith("scripts/bench/") ? `bench ${script}` : script === "start" ? "npm start" : script
}

export interface ProcessCpu {
  readonly name: string
  /** CPU cores the process(es) of that name used on average. */
  readonly cores: number
}

/** Starts measuring; the returned function gives the cores each named process used since, busiest first. */
export const processMeter = (known: Known): (() => ReadonlyArray<ProcessCpu>) => {
  const before = snapshot()
  const started = performance.now()
  return () => {
    const after = snapshot()
    const seconds = (performance.now() - started) / 1000
    const byName = new Map<string, number>()
    for (const [pid, p] of after) {
      const name = nameOf(pid, after, known)
      if (!name) continue
      // A process started meanwhile counts from zero.
      const ticks = p.ticks - (before.get(pid)?.ticks ?? 0)
      byName.set(name, (byName.get(name) ?? 0) + ticks)
    }
    return [...byName]
      .map(([name, ticks]) => ({ name, cores: ticks / TICKS_PER_SECOND / seconds }))
      .filter((p) => p.cores >= 0.01)
      .sort((a, b) => b.cores - a.cores)
  }
}

export const processText = (list: ReadonlyArray<ProcessCpu> | undefined, top = 5): string =>
  (list ?? [])
    .slice(0, top)
    .map((p) => `${p.name} ${p.cores.toFixed(2)}`)
    .join(", ")
