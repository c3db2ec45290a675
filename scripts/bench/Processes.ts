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
  /** CPU time of its children that ended and it reaped (cutime + cstime). */
  readonly endedChildTicks: number
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
      procs.set(Number(dir), {
        ppid: Number(fields[1]),
        ticks: Number(fields[11]) + Number(fields[12]),
        endedChildTicks: Number(fields[13]) + Number(fields[14]),
        cmdline
      })
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

/**
 * What the time of PostgreSQL's processes that ended meanwhile (a client's backend when it
 * disconnects) is reported under: their postmaster reaped them, so it is in its children's time.
 */
export const ENDED_POSTGRES_PROCESSES = "postgres: (ended processes)"

/**
 * PostgreSQL's processes by role, from their process titles: the walsender (logical decoding
 * for the CDC connector), the backends serving clients, and the rest (WAL writer,
 * checkpointer, background writer, launchers). For processMeter's `refine`.
 */
export const postgresRoles = (name: string, cmdline: string): string =>
  name !== "postgres"
    ? name
    : cmdline === ENDED_POSTGRES_PROCESSES
      ? "postgres backends"
      : /^postgres: walsender /.test(cmdline)
        ? "postgres walsender"
        : /^postgres: \S+ \S+ \S+\(\d+\)|^postgres: \S+ \S+ \[local\]/.test(cmdline)
          ? "postgres backends"
          : cmdline.includes("postgres:")
            ? "postgres background"
            : "postgres postmaster"

/**
 * Starts measuring; the returned function gives the cores each named process used since,
 * busiest first. `refine` may rename a process from its command line (e.g. postgresRoles).
 */
export const processMeter = (
  known: Known,
  refine?: (name: string, cmdline: string) => string
): (() => ReadonlyArray<ProcessCpu>) => {
  const before = snapshot()
  const started = performance.now()
  return () => {
    const after = snapshot()
    const seconds = (performance.now() - started) / 1000
    const byName = new Map<string, number>()
    for (const [pid, p] of after) {
      const plain = nameOf(pid, after, known)
      if (!plain) continue
      const name = refine ? refine(plain, p.cmdline) : plain
      // A process started meanwhile counts from zero.
      const ticks = p.ticks - (before.get(pid)?.ticks ?? 0)
      byName.set(name, (byName.get(name) ?? 0) + ticks)
      // The postmaster: its children that ended meanwhile (mostly backends of clients gone).
      if (plain === "postgres" && p.cmdline.includes(known.postgresDir)) {
        const ended = refine ? refine(plain, ENDED_POSTGRES_PROCESSES) : plain
        const endedTicks = p.endedChildTicks - (before.get(pid)?.endedChildTicks ?? 0)
        byName.set(ended, (byName.get(ended) ?? 0) + endedTicks)
      }
    }
    return [...byName]
      .map(([name, ticks]) => ({ name, cores: ticks / TICKS_PER_SECOND / seconds }))
      .filter((p) => p.cores >= 0.01)
      .sort((a, b) => b.cores - a.cores)
  }
}

/** The pids of our processes reported under `name` (e.g. "identity", "prefetch", "postgres"). */
export const pidsNamed = (known: Known, name: string): ReadonlyArray<number> => {
  const procs = snapshot()
  return [...procs.keys()].filter((pid) => nameOf(pid, procs, known) === name)
}

/** A thread's kind, from its name: the main (JavaScript) thread, libuv's pool, V8's helpers. */
export type ThreadKind = "main thread" | "libuv pool" | "V8 helpers" | "other threads"

const kindOf = (comm: string): ThreadKind =>
  comm === "MainThread" || comm === "node"
    ? "main thread"
    : comm === "libuv-worker"
      ? "libuv pool"
      : comm === "V8Worker" || comm === "DelayedTaskSche"
        ? "V8 helpers"
        : "other threads"

const threadTicks = (pids: ReadonlyArray<number>): Map<string, number> => {
  const ticks = new Map<string, number>()
  for (const pid of pids) {
    let tids: Array<string> = []
    try {
      tids = readdirSync(`/proc/${pid}/task`)
    } catch {
      continue // exited
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")
        const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
        // Keyed by thread, so a thread that ends meanwhile only loses its own time.
        ticks.set(`${pid}/${tid} ${kindOf(comm)}`, Number(fields[11]) + Number(fields[12]))
      } catch {
        // ended meanwhile
      }
    }
  }
  return ticks
}

/**
 * Starts measuring the threads of `pids`; the returned function gives the CPU seconds each kind
 * of thread used since (main thread, libuv pool, V8 helpers, other threads).
 */
export const threadMeter = (pids: ReadonlyArray<number>): (() => ReadonlyMap<ThreadKind, number>) => {
  const before = threadTicks(pids)
  return () => {
    const seconds = new Map<ThreadKind, number>()
    for (const [key, ticks] of threadTicks(pids)) {
      const kind = key.slice(key.indexOf(" ") + 1) as ThreadKind
      seconds.set(kind, (seconds.get(kind) ?? 0) + (ticks - (before.get(key) ?? 0)) / TICKS_PER_SECOND)
    }
    return seconds
  }
}

export const processText = (list: ReadonlyArray<ProcessCpu> | undefined, top = 5): string =>
  (list ?? [])
    .slice(0, top)
    .map((p) => `${p.name} ${p.cores.toFixed(2)}`)
    .join(", ")
