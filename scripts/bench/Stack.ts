// The whole system for a benchmark run, started exactly as `npm start` starts it: a private
// Redis (append-only file, fsync every second, as the session store ships) and PostgreSQL from
// test/kit/src/localServices.ts, then scripts/start.mjs pointed at them, so its setup steps (the
// seed) and its list of processes are the ones measured, with no second copy of that list here.
// Process output goes to a log file; `stop` ends start.mjs (which stops its processes) and then
// the servers.
import { spawn } from "node:child_process"
import { createWriteStream } from "node:fs"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { freePort, startPostgres, startRedis, type LocalPostgres, type LocalRedis } from "@bank/test-kit"

const root = fileURLToPath(new URL("../..", import.meta.url))

export interface StackOptions {
  /** Demo customers to seed (SEED_CUSTOMERS). */
  readonly customers: number
  /** Where the processes' output goes. */
  readonly logFile: string
  /** Extra environment for every process. */
  readonly env?: Readonly<Record<string, string>>
  readonly readyTimeoutMs?: number
  /** Called once the servers are up, before start.mjs runs: to watch the system fill up. */
  readonly onServers?: (servers: { readonly redisUrl: string; readonly databaseUrl: string }) => void
  /** The checkout whose `npm start` to run (default this one): before/after across checkouts. */
  readonly dir?: string
}

export interface Stack {
  readonly baseUrl: string
  readonly redis: LocalRedis
  readonly postgres: LocalPostgres
  /** Environment the processes got (REDIS_URL, DATABASE_URL, PORT...), for child scripts. */
  readonly env: Readonly<Record<string, string>>
  /** Processes start.mjs skipped because their entry file does not exist yet. */
  readonly skipped: ReadonlyArray<string>
  /** Names of the processes and setup steps that wrote output. */
  readonly seen: ReadonlySet<string>
  /** Seconds from launching start.mjs to its "ready". */
  readonly startSeconds: number
  /** Appends a line to the log file (the benchmark's helper processes log there too). */
  log(line: string): void
  stop(): Promise<void>
}

export const startStack = async (options: StackOptions): Promise<Stack> => {
  const [redis, postgres, port] = await Promise.all([startRedis({ appendonly: true }), startPostgres(), freePort()])
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    DATABASE_URL: postgres.url,
    PORT: String(port),
    SEED_CUSTOMERS: String(options.customers),
    // No fixed ports besides the edge's: another stack may run on this machine.
    CDC_METRICS_PORT: "0",
    // The load generator plays many phones behind one load balancer (see load/flows/Api.ts).
    IDENTITY_TRUSTED_PROXY_HOPS: "1",
    // A benchmark logs its token pool in once and reads with it for longer than an access token
    // lives by default (never longer than a customer's 5-minute idle timeout): with the defaults,
    // runs after the fifth minute measured 401s.
    IDENTITY_SESSION_IDLE_TIMEOUT: "60 minutes",
    IDENTITY_ACCESS_TOKEN_TTL: "60 minutes",
    // SIGUSR1 opens a process's inspector on a random port of 127.0.0.1, not 9229 (which another
    // stack may hold): how scripts/bench/Inspector.ts profiles a process it did not start.
    NODE_OPTIONS: [process.env.NODE_OPTIONS, "--inspect-port=0"].filter(Boolean).join(" "),
    LOG_FORMAT: "json",
    LOG_LEVEL: "Info",
    ...options.env
  }
  options.onServers?.({ redisUrl: redis.url, databaseUrl: postgres.url })
  const log = createWriteStream(options.logFile)
  const skipped: Array<string> = []
  const seen = new Set<string>()
  const launched = performance.now()
  const child = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd: options.dir ?? root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true
  })
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? `code ${code}`))
  )
  // If we die first (Ctrl-C, a crash), start.mjs still gets to stop its processes: it runs in
  // its own process group, so only this tells it.
  const orphanGuard = () => {
    try {
      process.kill(-child.pid!, "SIGTERM")
    } catch {
      // already gone
    }
  }
  process.once("exit", orphanGuard)

  const ready = new Promise<void>((resolve, reject) => {
    const onLine = (line: string) => {
      log.write(`${line}\n`)
      const name = /^(\S+)\s*\| /.exec(line)?.[1]
      if (name) seen.add(name)
      const skip = /skipping (\S+): \S+ does not exist yet/.exec(line)
      if (skip) skipped.push(skip[1]!)
      if (/\bready: http:\/\/localhost:\d+/.test(line)) resolve()
    }
    createInterface({ input: child.stdout! }).on("line", onLine)
    createInterface({ input: child.stderr! }).on("line", onLine)
    void exited.then((how) =>
      reject(new Error(`npm start stopped before it was ready (${how}); see ${options.logFile}`))
    )
    setTimeout(
      () =>
        reject(
          new Error(
            `npm start not ready within ${(options.readyTimeoutMs ?? 300_000) / 1000} s; see ${options.logFile}`
          )
        ),
      options.readyTimeoutMs ?? 300_000
    ).unref()
  })

  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    process.off("exit", orphanGuard)
    try {
      process.kill(-child.pid!, "SIGTERM")
    } catch {
      // already gone
    }
    const done = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 30_000).unref())
    ])
    if (!done) {
      try {
        process.kill(-child.pid!, "SIGKILL")
      } catch {
        // gone meanwhile
      }
    }
    await Promise.all([redis.stop(), postgres.stop()])
    log.end()
  }

  try {
    await ready
  } catch (error) {
    await stop()
    throw error
  }
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    redis,
    postgres,
    env,
    skipped,
    seen,
    startSeconds: (performance.now() - launched) / 1000,
    log: (line) => {
      if (!stopped) log.write(`${line}\n`)
    },
    stop
  }
}
