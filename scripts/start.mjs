// `npm start`: the whole system on this machine, from a fresh checkout with only Node.js.
//   1. the pinned Node.js and `npm ci` when node_modules is missing (scripts/lib/bootstrap.mjs),
//      then this script again on the pinned Node.js when the machine's own started it;
//   2. REDIS_URL (or REDIS_CLUSTER_NODES) / DATABASE_URL when set, otherwise private throw-away
//      Redis and PostgreSQL (scripts/services.ts), installing redis-server / postgresql with
//      apt-get when we are root; `npm start -- --redis-cluster` makes the private Redis a 6-node
//      Redis Cluster (3 masters, 3 replicas) instead of one server;
//   3. the setup steps, in order (see `setupSteps`);
//   4. every process of the system (processes.json), each output line prefixed with its name;
//   5. on Ctrl-C / SIGTERM, or when a process dies: stop the processes, then the servers.
// Plain JavaScript rather than TypeScript because it runs before `npm ci` installed anything.
// Variables in a `.env` file at the root are read too; the environment wins over the file.
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { installDependencies, installServers, reexecOnPinnedNode } from "./lib/bootstrap.mjs"

const root = fileURLToPath(new URL("..", import.meta.url))
if (existsSync(join(root, ".env"))) process.loadEnvFile(join(root, ".env"))
const port = process.env.PORT ?? "3000"
// The edge seals passwords for the identity actor with this key; without one configured, each
// run makes its own random key and gives it to both (never the published development key).
process.env.IDENTITY_TRANSPORT_KEY ??= randomBytes(32).toString("base64")

// ── Setup steps ───────────────────────────────────────────────────────────────────────────
// One-shot scripts run in order once Redis and PostgreSQL answer and before the processes
// start; a step that fails stops `npm start`. Same shape as `processes` (no `ready`).
// `seed` applies the migrations and, when the database is empty, loads the demo data set
// (SEED_CUSTOMERS customers, default 1,000, log-ins demo1 ... demoN / demo-password). The
// hash pool of 100 keeps the first start at a few seconds; see packages/core-banking/src/Generator.ts.
const setupSteps = [
  { name: "seed", file: "scripts/seed.ts", args: ["--hash-pool", "100"] }
]

// ── Processes of the system ───────────────────────────────────────────────────────────────
// processes.json lists them; each runs as `node --import tsx <entry>` with REDIS_URL,
// DATABASE_URL (and PORT for the one serving HTTP), `count` times. An entry whose file does not
// exist yet is skipped with a notice. The HTTP process's /readyz is polled until it answers
// 2xx, to tell people when the system can be used. `<NAME>_PROCESSES` overrides a count, e.g.
// DASHBOARD_PROCESSES=3 (the dashboard projectors share the CDC partitions between them).
const manifest = JSON.parse(readFileSync(join(root, "processes.json"), "utf8"))
const countOf = (p) => {
  const wanted = Math.floor(Number(process.env[`${p.name.toUpperCase()}_PROCESSES`] ?? p.count ?? 1))
  return wanted >= 1 ? wanted : p.count ?? 1
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

const within = (promise, ms) => Promise.race([promise.then(() => true), new Promise((r) => setTimeout(() => r(false), ms).unref())])

let stopping = false
const stop = async (code, why) => {
  if (stopping) return
  stopping = true
  log(children.some(running) ? `${why}: stopping` : why)
  const isServices = (c) => c.name === "services"
  await Promise.all(
    children.filter((c) => running(c) && !isServices(c)).map(async (c) => {
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
    const flags = process.argv.includes("--redis-cluster") ? ["--redis-cluster"] : []
    const services = launch("services", ["--import", "tsx", "scripts/services.ts", "--exit-with-stdin", ...flags], {
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
  const { exited, child } = launch(step.name, ["--import", "tsx", step.file, ...(step.args ?? [])], { env: { ...env, ...step.env } })
  const how = await exited
  if (child.exitCode !== 0) throw new Error(`setup step ${step.name} failed (${how})`)
}

const waitUntilReady = async (entry, url) => {
  while (running(entry) && !stopping) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false)
    if (ok) return true
    await new Promise((r) => setTimeout(r, 250))
  }
  return false
}

const main = async () => {
  installDependencies(log)
  delegated = reexecOnPinnedNode(fileURLToPath(import.meta.url))
  if (delegated) return
  installServers(log, { needRedis: !process.env.REDIS_URL && !process.env.REDIS_CLUSTER_NODES, needPostgres: !process.env.DATABASE_URL })
  const urls = await startServers()
  // Children write to a pipe, not a terminal, so they would log JSON lines; keep them
  // readable when a person watches.
  const env = { LOG_FORMAT: process.stdout.isTTY ? "pretty" : "json", ...process.env, ...urls }
  for (const step of setupSteps.filter(exists)) {
    if (stopping) return
    await runSetupStep(step, env)
  }
  if (stopping) return
  const started = processes.filter(exists).map((p) => {
    const entry = launch(p.name, ["--import", "tsx", p.file, ...(p.args ?? [])], { env: { ...env, ...p.env } })
    void entry.exited.then((how) => void stop(1, `${p.name} exited (${how})`))
    return { ...p, entry }
  })
  if (started.length === 0) throw new Error("none of the processes exists yet: nothing to run")
  const ready = await Promise.all(started.filter((p) => p.ready).map((p) => waitUntilReady(p.entry, p.ready)))
  if (ready.every(Boolean) && !stopping) log(`ready: http://localhost:${port} (Ctrl-C stops everything)`)
}

main().catch((error) => void stop(1, error instanceof Error ? error.message : String(error)))
