// `npm start`: the whole system on this machine, from a fresh checkout with only Node.js.
//   1. the pinned Node.js and `npm ci` when node_modules is missing (scripts/lib/bootstrap.mjs),
//      then this script again on the pinned Node.js when the machine's own started it;
//   2. REDIS_URL (or REDIS_CLUSTER_NODES) / DATABASE_URL when set, otherwise private Redis and
//      PostgreSQL whose data is kept across runs in DATA_DIR (default .data/; Redis with
//      config/redis.conf, AOF everysec), so sessions and tokens outlive a restart;
//      `npm start -- --fresh` starts over (scripts/services.ts), installing redis-server /
//      postgresql with apt-get when we are root; `npm start -- --redis-cluster` makes the private
//      Redis a 6-node Redis Cluster (3 masters, 3 replicas, throw-away) instead of one server;
//   3. the setup steps, in order (see `setupSteps`);
//   4. every process of the system (processes.json), each output line prefixed with its name;
//   5. a process that exits unexpectedly is restarted with backoff (see `supervise`);
//   6. on Ctrl-C / SIGTERM: stop the processes, then the servers.
// Plain JavaScript rather than TypeScript because it runs before `npm ci` installed anything.
// Variables in a `.env` file at the root are read too; the environment wins over the file.
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { createServer } from "node:net"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { installDependencies, installServers, reexecOnPinnedNode } from "./lib/bootstrap.mjs"

// The same command-line behaviour as every script (platform/CommandLine.ts, which this plain
// JavaScript cannot import): --help exits 0, a wrong flag prints one line and exits 2.
const usage = `Start the whole system on this machine; Ctrl-C stops it.

usage: npm start [-- --fresh] [-- --redis-cluster]

options:
  --fresh          delete the kept data (DATA_DIR, default .data/) and start over
  --redis-cluster  a private, throw-away 6-node Redis Cluster instead of one kept Redis
  -h, --help       show this help and exit

Environment: PORT (default 3000), DATA_DIR, REDIS_URL / DATABASE_URL (use those servers instead),
SEED_CUSTOMERS; every other variable is in .env.example.
`
let flags
try {
  flags = parseArgs({
    options: {
      fresh: { type: "boolean" },
      "redis-cluster": { type: "boolean" },
      help: { type: "boolean", short: "h" }
    },
    strict: true
  }).values
} catch (error) {
  process.stderr.write(`start: ${String(error.message).split(/\.\s/)[0].replace(/\.$/, "")} (see --help)\n`)
  process.exit(2)
}
if (flags.help) {
  process.stdout.write(usage)
  process.exit(0)
}

const root = fileURLToPath(new URL("..", import.meta.url))
if (existsSync(join(root, ".env"))) process.loadEnvFile(join(root, ".env"))
const port = process.env.PORT ?? "3000"
const dataDir = resolve(root, process.env.DATA_DIR ?? ".data")
// The edge seals passwords for the identity actor with this key; without one configured, the
// first run makes a random one (never the published development key) and keeps it with the data.
const useTransportKey = () => {
  if (process.env.IDENTITY_TRANSPORT_KEY) return
  const file = join(dataDir, "identity-transport.key")
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(file, randomBytes(32).toString("base64"), { mode: 0o600 })
  }
  process.env.IDENTITY_TRANSPORT_KEY = readFileSync(file, "utf8").trim()
}

// ── Setup steps ───────────────────────────────────────────────────────────────────────────
// One-shot scripts run in order once Redis and PostgreSQL answer and before the processes
// start; a step that fails stops `npm start`. Same shape as `processes` (no `ready`).
// `seed` applies the migrations and, when the database is empty, loads the demo data set
// (SEED_CUSTOMERS customers, default 1,000, log-ins demo1 ... demoN / demo-password). The
// hash pool of 100 keeps the first start at a few seconds; see packages/core-banking/src/Generator.ts.
const setupSteps = [{ name: "seed", file: "scripts/seed.ts", args: ["--hash-pool", "100"] }]

// ── Processes of the system ───────────────────────────────────────────────────────────────
// processes.json lists them; each runs as `node --import tsx <entry>` with REDIS_URL,
// DATABASE_URL (and PORT for the one serving HTTP), `count` times. An entry whose file does not
// exist yet is skipped with a notice. The HTTP process's /readyz is polled until it answers
// 2xx, to tell people when the system can be used. `<NAME>_PROCESSES` overrides a count, e.g.
// DASHBOARD_PROCESSES=3 (the dashboard projectors share the CDC partitions between them).
const manifest = JSON.parse(readFileSync(join(root, "processes.json"), "utf8"))
const countOf = (p) => {
  const wanted = Math.floor(Number(process.env[`${p.name.toUpperCase()}_PROCESSES`] ?? p.count ?? 1))
  return wanted >= 1 ? wanted : (p.count ?? 1)
}
const processes = manifest.processes.flatMap((p) =>
  Array.from({ length: countOf(p) }, (_, i) => ({
    name: countOf(p) > 1 ? `${p.name}-${i + 1}` : p.name,
    file: p.entry,
    ...(p.http ? { env: { PORT: port }, ready: `http://127.0.0.1:${port}/readyz` } : {})
  }))
)

// ── Output ────────────────────────────────────────────────────────────────────────────────
const names = ["start", "services", ...setupSteps.map((s) => s.name), ...processes.map((p) => p.name)]
const width = Math.max(...names.map((n) => n.length))
const colors = [36, 35, 33, 32, 34, 31, 96, 95, 93, 92]
const prefix = (name) => {
  const label = name.padEnd(width)
  if (!process.stdout.isTTY) return `${label} | `
  return `\x1b[${colors[names.indexOf(name) % colors.length]}m${label}\x1b[0m | `
}
const log = (text) => text.split("\n").forEach((line) => process.stdout.write(`${prefix("start")}${line}\n`))
const pipeLines = (stream, name, onLine = (line) => process.stdout.write(`${prefix(name)}${line}\n`)) =>
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine)

// ── Children ──────────────────────────────────────────────────────────────────────────────
// Each child gets its own process group (detached), so a Ctrl-C in the terminal reaches only
// us and we decide the order: processes first, servers last (an actor that loses Redis while
// still draining would only log noise). The exit hook kills whatever is left if we crash.
const children = []
process.on("exit", () => children.forEach((c) => signal(c, "SIGKILL")))

const running = (c) => c.child.exitCode === null && c.child.signalCode === null
const signal = (c, sig) => {
  if (!running(c)) return
  try {
    process.kill(-c.child.pid, sig)
  } catch {
    // already gone
  }
}

const launch = (name, args, { env = process.env, stdin = "ignore", onStdoutLine } = {}) => {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: [stdin, "pipe", "pipe"], detached: true })
  const exited = new Promise((resolve) => {
    child.once("exit", (code, sig) => resolve(sig ? `signal ${sig}` : `code ${code}`))
    child.once("error", (error) => resolve(`error ${error.message}`))
  })
  pipeLines(child.stdout, name, onStdoutLine)
  pipeLines(child.stderr, name)
  const entry = { name, child, exited }
  children.push(entry)
  return entry
}

const within = (promise, ms) =>
  Promise.race([promise.then(() => true), new Promise((r) => setTimeout(() => r(false), ms).unref())])

let stopping = false
const stop = async (code, why) => {
  if (stopping) return
  stopping = true
  log(children.some(running) ? `${why}: stopping` : why)
  const isServices = (c) => c.name === "services"
  await Promise.all(
    children
      .filter((c) => running(c) && !isServices(c))
      .map(async (c) => {
        signal(c, "SIGTERM")
        if (!(await within(c.exited, 10_000))) {
          log(`${c.name} did not stop within 10 s: killing it`)
          signal(c, "SIGKILL")
        }
      })
  )
  for (const c of children.filter((c) => running(c) && isServices(c))) {
    c.child.stdin?.end() // services.ts stops its servers when its stdin closes
    if (!(await within(c.exited, 15_000))) signal(c, "SIGKILL")
  }
  process.exit(code)
}
// npm forwards the terminal's SIGINT to us as well, so a second signal is expected: ignored.
// While the same script runs again on the pinned Node.js (`delegated`), that one stops things.
let delegated = false
process.on("SIGINT", () => delegated || void stop(0, "SIGINT"))
process.on("SIGTERM", () => delegated || void stop(0, "SIGTERM"))

// ── Steps ─────────────────────────────────────────────────────────────────────────────────
/** Starts scripts/services.ts; resolves with the URLs once both servers answer. */
const startServers = () =>
  new Promise((resolve, reject) => {
    const urls = { REDIS_URL: process.env.REDIS_URL, DATABASE_URL: process.env.DATABASE_URL }
    const extra = flags["redis-cluster"] ? ["--redis-cluster"] : ["--data-dir", dataDir]
    const services = launch("services", ["--import", "tsx", "scripts/services.ts", "--exit-with-stdin", ...extra], {
      stdin: "pipe",
      onStdoutLine: (line) => {
        const exported = /^export (REDIS_URL|DATABASE_URL)=(.+)$/.exec(line)
        if (exported) urls[exported[1]] = exported[2]
        if (line === "# ready") resolve(urls)
      }
    })
    void services.exited.then((how) => {
      const error = new Error(`services stopped (${how})`)
      reject(error) // before "# ready": could not start; after: a server went away
      void stop(1, error.message)
    })
  })

const exists = (entry) => {
  if (existsSync(join(root, entry.file))) return true
  log(`skipping ${entry.name}: ${entry.file} does not exist yet`)
  return false
}

const runSetupStep = async (step, env) => {
  const { exited, child } = launch(step.name, ["--import", "tsx", step.file, ...(step.args ?? [])], {
    env: { ...env, ...step.env }
  })
  const how = await exited
  if (child.exitCode !== 0) throw new Error(`setup step ${step.name} failed (${how})`)
}

/** Polls `url` until it answers 2xx (through restarts of the process behind it). */
const waitUntilReady = async (url) => {
  while (!stopping) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.ok,
      () => false
    )
    if (ok) return true
    await new Promise((r) => setTimeout(r, 250))
  }
  return false
}

const main = async () => {
  installDependencies(log)
  delegated = reexecOnPinnedNode(fileURLToPath(import.meta.url))
  if (delegated) return
  installServers(log, {
    needRedis: !process.env.REDIS_URL && !process.env.REDIS_CLUSTER_NODES,
    needPostgres: !process.env.DATABASE_URL
  })
  if (flags.fresh) {
    log(`--fresh: deleting the kept data in ${dataDir}`)
    rmSync(dataDir, { recursive: true, force: true })
  }
  useTransportKey()
  const urls = await startServers()
  // Children write to a pipe, not a terminal, so they would log JSON lines; keep them
  // readable when a person watches.
  const env = { LOG_FORMAT: process.stdout.isTTY ? "pretty" : "json", ...process.env, ...urls }
  for (const step of setupSteps.filter(exists)) {
    if (stopping) return
    await runSetupStep(step, env)
  }
  if (stopping) return
  const started = []
  for (const p of processes.filter(exists)) {
    // Each process serves /healthz, /readyz and /metrics on its own management port
    // (platform Management.ts), kept across its restarts.
    const managementPort = await freePort()
    const management = `http://127.0.0.1:${managementPort}`
    supervise(p, { ...env, ...p.env, MANAGEMENT_PORT: String(managementPort) })
    log(`metrics: ${management}/metrics (${p.name})`)
    started.push({ ...p, management })
  }
  if (started.length === 0) throw new Error("none of the processes exists yet: nothing to run")
  // Ready means a demo login and its dashboard would succeed: the edge's /readyz waits for the
  // read models it serves from, and every process (the identity actor answering logins among
  // them) says it is ready on its own /readyz.
  const readiness = started.flatMap((p) => [`${p.management}/readyz`, ...(p.ready ? [p.ready] : [])])
  const ready = await Promise.all(readiness.map(waitUntilReady))
  if (ready.every(Boolean) && !stopping) log(`ready: http://localhost:${port} (Ctrl-C stops everything)`)
}

/** A port nothing listens on right now, for a child to bind. */
const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

// ── Supervision ───────────────────────────────────────────────────────────────────────────
// A process that exits while we are not stopping is started again after a pause that doubles
// with each exit in a row (1 s, 2 s, 4 s ... at most 30 s; a process that ran a minute starts
// the count again), and we say so. Only Ctrl-C / SIGTERM stops the whole system.
const supervise = (p, env) => {
  let exitsInARow = 0
  const start = () => {
    const startedAt = Date.now()
    const entry = launch(p.name, ["--import", "tsx", p.file, ...(p.args ?? [])], { env })
    void entry.exited.then((how) => {
      if (stopping) return
      if (Date.now() - startedAt > 60_000) exitsInARow = 0
      exitsInARow++
      const delayMs = Math.min(30_000, 1000 * 2 ** (exitsInARow - 1))
      log(
        `${p.name} exited unexpectedly (${how}): restarting it in ${delayMs / 1000} s${exitsInARow > 1 ? ` (${exitsInARow} exits in a row)` : ""}`
      )
      setTimeout(() => {
        if (stopping) return
        log(`restarting ${p.name}`)
        start()
      }, delayMs)
    })
  }
  start()
}

main().catch((error) => void stop(1, error instanceof Error ? error.message : String(error)))
