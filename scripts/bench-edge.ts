// `npx tsx scripts/bench-edge.ts [flags]`: the edge's read path against its lean reference (not
// a test). Starts the whole system as `npm start` does (scripts/bench/Stack.ts), logs in a pool of
// demo users, starts scripts/bench/servers/lean.ts (plain Hono + node-redis doing the same Redis
// reads, no Effect) on the same Redis, and measures each route on the edge and on the reference
// in interleaved rounds with the same load generator, so a burst of someone else's work hits
// both alike. Prints one markdown table (best round of each, and the ratio), then the dashboard's
// p99 at half its own peak rate.
//
//   --customers N     demo customers to seed (default 300)
//   --seconds S       length of each run (default 5), after --warmup W (default 1)
//   --connections C   keep-alive connections (default 32)
//   --rounds R        interleaved rounds (default 2)
//   --edge DIR        also measure an edge started from another checkout (e.g. a worktree of
//                     main, for before/after in one run); repeatable
//   --env K=V         environment for the extra edges (e.g. OTEL_TRACES_EXPORTER=none); repeatable
//   --cpu-prof DIR    run the extra edges with --cpu-prof, profiles written to DIR at the end
//   --routes a,b      only these routes (healthz,dashboard,profile,session,products)
import { spawn, type ChildProcess } from "node:child_process"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { CommandLine } from "@bank/platform"
import { freePort } from "@bank/test-kit"
import type { BenchContext } from "./bench/Context.ts"
import { load, startServer, type LoadResult } from "./bench/Http.ts"
import { tokenPool } from "./bench/measure/Login.ts"
import { startStack } from "./bench/Stack.ts"
import { connect, waitCaughtUp } from "./bench/Streams.ts"

const { values } = CommandLine.parse({
  name: "npx tsx scripts/bench-edge.ts",
  summary: "The edge's authenticated reads against a lean Hono + node-redis reference, interleaved, on one system.",
  options: {
    customers: { type: "string", value: "N", description: "customers to seed (default 300)" },
    seconds: { type: "string", value: "S", description: "seconds per run (default 5)" },
    warmup: { type: "string", value: "S", description: "warm-up seconds before each run (default 1)" },
    connections: { type: "string", value: "N", description: "keep-alive connections (default 32)" },
    rounds: { type: "string", value: "N", description: "interleaved rounds (default 2)" },
    edge: { type: "string", value: "DIR", multiple: true, description: "another checkout whose edge to measure too" },
    env: { type: "string", value: "K=V", multiple: true, description: "environment for the extra edges" },
    "cpu-prof": { type: "string", value: "DIR", description: "CPU profiles of the extra edges go here" },
    routes: { type: "string", value: "LIST", description: "routes to measure (default all)" }
  }
})
const number = (text: string | undefined, fallback: number) => (text === undefined ? fallback : Number(text))
const customers = number(values.customers, 300)
const seconds = number(values.seconds, 5)
const warmup = number(values.warmup, 1)
const connections = number(values.connections, 32)
const rounds = number(values.rounds, 2)
const extraEnv = Object.fromEntries(
  ((values.env ?? []) as Array<string>).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])
)
const began = performance.now()
const say = (text: string) =>
  console.error(`bench-edge ${((performance.now() - began) / 1000).toFixed(0).padStart(4)}s  ${text}`)

const logFile = join(tmpdir(), `bank-bench-edge-${Date.now()}.log`)
say(`starting the system (${customers} customers); output in ${logFile}`)
const stack = await startStack({ customers, logFile })
const stopAll: Array<() => Promise<void>> = [() => stack.stop()]
const finish = async () => {
  for (const stop of stopAll.reverse()) await stop().catch(() => {})
}
try {
  const redis = await connect(stack.redis.url)
  await waitCaughtUp(redis, { timeoutMs: 600_000 })
  const ctx = { stack, redis, say, tokens: [] as Array<string> } as unknown as BenchContext
  const failure = await tokenPool(ctx, Math.min(200, Math.max(1, Math.floor(customers / 2))))
  if (failure) throw new Error(failure)
  await redis.close()

  const lean = await startServer("scripts/bench/servers/lean.ts", { REDIS_URL: stack.redis.url }, (line) =>
    stack.log(`lean | ${line}`)
  )
  stopAll.push(() => lean.stop())

  // Extra edges from other checkouts, each on its own port, same Redis and PostgreSQL.
  const servers: Array<{ label: string; url: string }> = [{ label: "edge", url: stack.baseUrl }]
  for (const dir of (values.edge ?? []) as Array<string>) {
    const port = await freePort()
    const profile = values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${resolve(values["cpu-prof"])}`] : []
    const child: ChildProcess = spawn(process.execPath, [...profile, "--import", "tsx", "packages/edge/src/main.ts"], {
      cwd: dir,
      env: { ...process.env, ...stack.env, ...extraEnv, PORT: String(port), LOG_LEVEL: "Warn" },
      stdio: ["ignore", "ignore", "inherit"]
    })
    const exited = new Promise<void>((r) => child.once("exit", () => r()))
    stopAll.push(async () => {
      child.kill("SIGTERM")
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))])
    })
    const url = `http://127.0.0.1:${port}`
    const deadline = Date.now() + 120_000
    while (
      (await fetch(`${url}/healthz`).then(
        (r) => r.status,
        () => 0
      )) !== 200
    ) {
      if (Date.now() > deadline) throw new Error(`the edge of ${dir} did not answer /healthz within 120 s`)
      await new Promise((r) => setTimeout(r, 250))
    }
    servers.push({ label: `edge of ${dir}`, url })
  }

  const tokens = ctx.tokens
  let turn = 0
  const withToken = (request: { headers: Record<string, string>; body?: string }) => {
    request.headers.authorization = `Bearer ${tokens[turn++ % tokens.length]}`
    return request
  }
  const all = ["healthz", "dashboard", "profile", "session", "products"]
  const chosen = values.routes ? values.routes.split(",") : all
  const paths: Record<string, string> = {
    healthz: "/healthz",
    dashboard: "/v1/dashboard",
    profile: "/v1/profile",
    session: "/v1/session",
    products: "/v1/reference/products"
  }
  const run = async (url: string, rate?: number): Promise<LoadResult> => {
    const options = {
      url,
      connections,
      ...(url.endsWith("/healthz") ? {} : { vary: withToken }),
      ...(rate ? { rate } : {})
    }
    if (warmup > 0) await load({ ...options, seconds: warmup })
    return load({ ...options, seconds })
  }
  const targets = [{ label: "lean reference", url: lean.url }, ...servers]
  const best = new Map<string, LoadResult>()
  for (let round = 0; round < rounds; round++) {
    for (const route of chosen) {
      // Alternate who goes first, so neither always follows the other's warm-up.
      const order = round % 2 === 0 ? targets : [...targets].reverse()
      for (const target of order) {
        const result = await run(`${target.url}${paths[route]}`)
        say(
          `round ${round + 1} ${route} ${target.label}: ${result.perSecond.toFixed(0)} req/s p99 ${result.latency.p99.toFixed(2)} ms${result.unexpected + result.errors > 0 ? ` (${JSON.stringify(result.statuses)}, ${result.errors} errors)` : ""}`
        )
        const key = `${route} ${target.label}`
        if (!best.has(key) || best.get(key)!.perSecond < result.perSecond) best.set(key, result)
      }
    }
  }
  const lines = [
    `| route | ${targets.map((t) => t.label).join(" | ")} | ${servers.map((s) => `${s.label} / lean`).join(" | ")} |`,
    `|---|${targets.map(() => "---:").join("|")}|${servers.map(() => "---:").join("|")}|`
  ]
  for (const route of chosen) {
    const leanRate = best.get(`${route} lean reference`)!.perSecond
    lines.push(
      `| GET ${paths[route]} | ${targets.map((t) => `${best.get(`${route} ${t.label}`)!.perSecond.toFixed(0)} req/s`).join(" | ")} | ${servers.map((s) => `${(best.get(`${route} ${s.label}`)!.perSecond / leanRate).toFixed(2)}×`).join(" | ")} |`
    )
  }
  if (chosen.includes("dashboard")) {
    for (const server of servers) {
      const peak = best.get(`dashboard ${server.label}`)!.perSecond
      const half = await run(`${server.url}/v1/dashboard`, Math.floor(peak / 2))
      lines.push(
        "",
        `${server.label}: GET /v1/dashboard at half its peak (${Math.floor(peak / 2)} req/s offered, ${half.perSecond.toFixed(0)} answered): p50 ${half.latency.p50.toFixed(2)} ms, p99 ${half.latency.p99.toFixed(2)} ms`
      )
    }
  }
  console.log(lines.join("\n"))
} finally {
  say("stopping")
  await finish()
}
process.exit(0)
