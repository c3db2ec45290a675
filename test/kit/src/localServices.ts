// Private Redis and PostgreSQL processes for development and tests: throw-away by default, or
// kept in a data directory across runs (`dataDir`: `npm start` keeps its data in .data/).
// One place knows how to start them, so `npm start`, `scripts/services.ts` and every
// integration suite get the same servers: `redis-server` on a free port and a PostgreSQL
// cluster made by initdb with wal_level=logical (run as `postgres` through runuser when we
// are root, since PostgreSQL refuses to run as root).
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync, mkdirSync } from "node:fs"
import { createServer, createConnection } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** The production persistence settings (AOF everysec, RDB snapshots, noeviction). */
const redisConf = fileURLToPath(new URL("../../../config/redis.conf", import.meta.url))

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))
      )
    })
  })

// Whatever is still running when this process exits (a crashed suite, Ctrl-C) is stopped
// synchronously here, so no test leaves a server behind.
const onExit = new Set<() => void>()
let exitHookInstalled = false
export const atExit = (cleanup: () => void): (() => void) => {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once("exit", () => onExit.forEach((f) => f()))
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130))
  }
  onExit.add(cleanup)
  return () => onExit.delete(cleanup)
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

export const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await sleep(50)
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`)
}

export const which = (command: string): string | undefined => {
  const found = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" })
  return found.status === 0 ? found.stdout.trim() : undefined
}

// Debian keeps initdb/pg_ctl out of PATH (/usr/lib/postgresql/<major>/bin); take the newest.
const postgresBin = (tool: string): string => {
  const onPath = which(tool)
  if (onPath) return onPath
  const root = "/usr/lib/postgresql"
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => /^\d+$/.test(d))
        .sort((a, b) => Number(b) - Number(a))
    : []
  for (const major of majors) {
    const candidate = join(root, major, "bin", tool)
    if (existsSync(candidate)) return candidate
  }
  throw new Error(`${tool} not found: install PostgreSQL (Debian: apt-get install postgresql)`)
}

const isRoot = () => process.getuid?.() === 0

// Runs a PostgreSQL tool as the `postgres` user when we are root.
const pgCommand = (tool: string, args: ReadonlyArray<string>): [string, Array<string>] =>
  isRoot() ? ["runuser", ["-u", "postgres", "--", postgresBin(tool), ...args]] : [postgresBin(tool), [...args]]

const run = (command: [string, Array<string>], what: string) => {
  const result = spawnSync(command[0], command[1], { encoding: "utf8" })
  if (result.status !== 0) throw new Error(`${what} failed (${result.status}): ${result.stderr || result.stdout}`)
  return result.stdout
}

export interface RedisOptions {
  /** Append-only file with fsync every second: what the session store ships with. */
  readonly appendonly?: boolean
  /**
   * Keep the data here across runs, with the production settings of config/redis.conf (AOF
   * everysec plus RDB snapshots): `stop` shuts down cleanly and deletes nothing.
   */
  readonly dataDir?: string
  readonly extraArgs?: ReadonlyArray<string>
}

/** A private server started by the kit (Redis, a Redis Cluster, PostgreSQL). */
export interface LocalServer {
  readonly url: string
  readonly port: number
  readonly dir: string
  /** SIGKILL (PostgreSQL: immediate shutdown): a crash, with whatever the persistence settings kept. */
  kill(): Promise<void>
  /** Starts it again on the same port and directory (after `kill` or `stop`). */
  restart(): Promise<void>
  stop(): Promise<void>
}

export type LocalRedis = LocalServer

const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once("exit", () => r()))

/** One redis-server process of the kit: every private Redis and every cluster node is one. */
export interface RedisProcess {
  /** Whether it runs (launched, not halted). */
  readonly running: boolean
  /** Starts it; resolves once its port answers. */
  launch(): Promise<void>
  /** Sends `signal` and waits for the exit; with `killAfterMs`, SIGKILL if it has not exited by then. */
  halt(signal: NodeJS.Signals, killAfterMs?: number): Promise<void>
  /** Sends `signal` without waiting (for exit hooks, which must be synchronous). */
  signal(signal: NodeJS.Signals): void
}

/**
 * redis-server on 127.0.0.1:`port`, its data and redis.log in `dir`, in the foreground; a
 * `configFile` comes first (redis-server reads it from the first argument), `args` last.
 */
export const redisProcess = (
  bin: string,
  port: number,
  dir: string,
  options: { readonly configFile?: string; readonly args: ReadonlyArray<string> }
): RedisProcess => {
  const argv = [
    ...(options.configFile ? [options.configFile] : []),
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--daemonize",
    "no",
    "--logfile",
    join(dir, "redis.log"),
    ...options.args
  ]
  let child: ChildProcess | undefined
  return {
    get running() {
      return child !== undefined
    },
    launch: async () => {
      child = spawn(bin, argv, { stdio: "ignore" })
      await waitFor(`redis-server on port ${port}`, () => canConnect(port))
    },
    halt: async (signal, killAfterMs) => {
      const c = child
      child = undefined
      if (!c) return
      c.kill(signal)
      await (killAfterMs === undefined
        ? exited(c)
        : Promise.race([exited(c), sleep(killAfterMs).then(() => c.kill("SIGKILL"))]))
    },
    signal: (signal) => {
      child?.kill(signal)
    }
  }
}

export const startRedis = async (options: RedisOptions = {}): Promise<LocalRedis> => {
  const bin = which("redis-server")
  if (!bin) throw new Error("redis-server not found: install Redis (Debian: apt-get install redis-server)")
  const port = await freePort()
  const persistent = options.dataDir !== undefined
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), "bank-redis-"))
  mkdirSync(dir, { recursive: true })
  const server = redisProcess(bin, port, dir, {
    ...(persistent ? { configFile: redisConf } : {}),
    args: [
      ...(persistent
        ? []
        : ["--save", "", "--appendonly", options.appendonly ? "yes" : "no", "--appendfsync", "everysec"]),
      ...(options.extraArgs ?? [])
    ]
  })
  const remove = () => {
    if (!persistent) rmSync(dir, { recursive: true, force: true })
  }
  await server.launch()
  // A kept data set gets SIGTERM (Redis then writes what it holds) rather than SIGKILL.
  const forget = atExit(() => {
    server.signal(persistent ? "SIGTERM" : "SIGKILL")
    remove()
  })
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill: () => server.halt("SIGKILL"),
    restart: async () => {
      await server.halt("SIGTERM")
      await server.launch()
    },
    stop: async () => {
      forget()
      await server.halt("SIGTERM")
      remove()
    }
  }
}

export interface PostgresOptions {
  /** Keep the cluster here across runs (initdb only the first time); `stop` shuts down cleanly and deletes nothing. */
  readonly dataDir?: string
}

export type LocalPostgres = LocalServer

export const startPostgres = async (options: PostgresOptions = {}): Promise<LocalPostgres> => {
  const port = await freePort()
  const persistent = options.dataDir !== undefined
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), "bank-pg-"))
  const data = join(dir, "data")
  const socketDir = join(dir, "sock")
  mkdirSync(socketDir, { recursive: true })
  const remove = () => {
    if (!persistent) rmSync(dir, { recursive: true, force: true })
  }
  if (isRoot()) {
    const pw = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" })
    const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" })
    if (pw.status !== 0) throw new Error("running as root needs a `postgres` user to run PostgreSQL as")
    for (const d of [dir, socketDir]) chownSync(d, Number(pw.stdout), Number(gid.stdout))
  }
  if (!existsSync(join(data, "PG_VERSION"))) {
    run(
      pgCommand("initdb", [
        "-D",
        data,
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        ...(persistent ? [] : ["--no-sync"]),
        "--locale=C"
      ]),
      "initdb"
    )
  }
  const settings = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${socketDir}`,
    "-c wal_level=logical",
    "-c max_replication_slots=20",
    "-c max_wal_senders=20",
    "-c max_connections=200",
    "-c fsync=on",
    "-c shared_buffers=128MB"
  ].join(" ")
  const start = async () => {
    run(
      pgCommand("pg_ctl", ["-D", data, "-l", join(dir, "postgres.log"), "-o", settings, "-w", "-t", "60", "start"]),
      "pg_ctl start"
    )
    await waitFor(`PostgreSQL on port ${port}`, () => canConnect(port))
  }
  const stopCommand = (mode: "immediate" | "fast") => pgCommand("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"])
  // Asynchronous: a fast shutdown waits until every logical replication client has confirmed
  // what it was sent, and such a client may run in this very process (an in-process connector),
  // so blocking the event loop here would hold the shutdown until pg_ctl's own timeout (60 s).
  const halt = (mode: "immediate" | "fast") =>
    new Promise<void>((resolve, reject) => {
      const [command, args] = stopCommand(mode)
      spawn(command, args, { stdio: "ignore" })
        .once("error", reject)
        .once("exit", () => resolve())
    })
  await start()
  const forget = atExit(() => {
    // Exit hooks must be synchronous; an exiting process has no in-process clients left to wait for.
    const [command, args] = stopCommand(persistent ? "fast" : "immediate")
    spawnSync(command, args, { stdio: "ignore" })
    remove()
  })
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    kill: () => halt("immediate"),
    restart: async () => {
      await halt("fast")
      await start()
    },
    stop: async () => {
      forget()
      await halt(persistent ? "fast" : "immediate")
      remove()
    }
  }
}
