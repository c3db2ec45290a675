// `npx tsx scripts/bench-edge.ts [flags]`: the edge's read path against its lean reference (not
// a test), the focused form of `npm run bench`'s "Edge against the lean reference" group
// (scripts/bench/measure/EdgeReads.ts). Starts the whole system as `npm start` does
// (scripts/bench/Stack.ts), logs in a pool of demo users, starts scripts/bench/servers/lean.ts
// (plain Hono + node-redis doing the same Redis reads, no Effect) on the same Redis, and
// measures each route on the edge and on the reference in interleaved rounds with the same load
// generator, so a burst of someone else's work hits both alike. Prints one markdown table (best
// round of each: rate and the server's CPU per request, and the ratios), then the dashboard's
// p99 at half its own peak rate, evenly paced, on each server (the lean reference too).
//
//   --customers N     demo customers to seed (default 300)
//   --seconds S       length of each run (default 5), after --warmup W (default 1)
//   --connections C   keep-alive connections (default 32)
//   --rounds R        interleaved rounds (default 2)
//   --edge DIR        also measure an edge started from another checkout (e.g. a worktree of
//                     main, for before/after in one run); repeatable
//   --env K=V         environment for the extra edges (e.g. OTEL_TRACES_EXPORTER=none); repeatable
//   --cpu-prof DIR    run the extra edges with --cpu-prof, profiles written to DIR at the end
//   --routes a,b      only these routes (healthz,dashboard,profile,session,products,exchange-rates,
//                     transactions)
import { resolve } from "node:path"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CommandLine } from "@bank/platform"
import { benchContext, rotatingToken } from "./bench/Context.ts"
import { paced, startServer } from "./bench/Http.ts"
import {
  interleaved,
  listenerPid,
  measurable,
  routes,
  startEdge,
  type Target,
  withoutText
} from "./bench/measure/EdgeReads.ts"
import { prefetchedAccounts, tokenPool, unreadableWindows } from "./bench/measure/Login.ts"
import { numberOf, progress, runOptions } from "./bench/RunOptions.ts"
import { startStack } from "./bench/Stack.ts"
import { connect, waitCaughtUp } from "./bench/Streams.ts"

const { values } = CommandLine.parse({
  name: "npx tsx scripts/bench-edge.ts",
  summary: "The edge's authenticated reads against a lean Hono + node-redis reference, interleaved, on one system.",
  options: {
    ...runOptions({ customers: 300, seconds: 5, warmup: 1, connections: 32 }),
    rounds: { type: "string", value: "N", description: "interleaved rounds (default 2)" },
    edge: { type: "string", value: "DIR", multiple: true, description: "another checkout whose edge to measure too" },
    env: { type: "string", value: "K=V", multiple: true, description: "environment for the extra edges" },
    "cpu-prof": { type: "string", value: "DIR", description: "CPU profiles of the extra edges go here" },
    routes: { type: "string", value: "LIST", description: "routes to measure (default all)" }
  }
})
const number = (flag: string, text: string | undefined, fallback: number) =>
  numberOf("bench-edge", flag, text, fallback)
const customers = number("customers", values.customers, 300)
const seconds = number("seconds", values.seconds, 5)
const warmupSeconds = number("warmup", values.warmup, 1)
const connections = number("connections", values.connections, 32)
const rounds = number("rounds", values.rounds, 2)
const extraEnv = Object.fromEntries(
  ((values.env ?? []) as Array<string>).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])
)
const say = progress("bench-edge")

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
  const ctx = benchContext(stack, redis, { seconds, warmupSeconds, connections, say })
  const failure = await tokenPool(ctx, Math.min(200, Math.max(1, Math.floor(customers / 2))))
  if (failure) throw new Error(failure)
  const accountsFailure = await prefetchedAccounts(ctx)
  if (accountsFailure) say(accountsFailure)
  stopAll.push(() => redis.close())

  const lean = await startServer("scripts/bench/servers/lean.ts", { REDIS_URL: stack.redis.url }, (line) =>
    stack.log(`lean | ${line}`)
  )
  stopAll.push(() => lean.stop())
  const edgePid = listenerPid(Number(new URL(stack.baseUrl).port))
  if (edgePid === undefined) throw new Error("the system's edge does not listen")
  const servers: Array<Target> = [{ label: "edge", url: stack.baseUrl, pid: edgePid }]
  // Extra edges from other checkouts, each on its own port, same Redis and PostgreSQL.
  for (const dir of (values.edge ?? []) as Array<string>) {
    const profile = values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${resolve(values["cpu-prof"])}`] : []
    const edge = await startEdge({ stack }, { dir, env: extraEnv, nodeArgs: profile, label: `edge of ${dir}` })
    stopAll.push(() => edge.stop())
    servers.push(edge)
  }

  const chosen = (values.routes ? routes.filter((r) => values.routes!.split(",").includes(r.name)) : routes).filter(
    (r) => measurable(ctx, r)
  )
  const targets: Array<Target> = [{ label: "lean reference", url: lean.url, pid: lean.pid }, ...servers]
  // The reference must answer what the edge answers: the first few accounts' pages, body for body.
  if (chosen.some((r) => r.perAccount)) {
    const get = (url: string, token: string) =>
      fetch(url, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({
        status: r.status,
        source: r.headers.get("x-data-source"),
        body: await r.text()
      }))
    for (const { token, account } of ctx.accounts.slice(0, 5)) {
      const path = `/v1/accounts/${account}/transactions`
      const reference = await get(`${lean.url}${path}`, token)
      for (const server of servers) {
        const answer = await get(`${server.url}${path}`, token)
        if (
          answer.status !== reference.status ||
          answer.body !== reference.body ||
          (answer.source ?? "redis") !== "redis"
        )
          say(
            `MISMATCH on ${path}: ${server.label} ${answer.status} (${answer.source}) ${answer.body.slice(0, 200)} / lean ${reference.status} ${reference.body.slice(0, 200)}`
          )
      }
    }
    say(`checked the transactions pages of ${Math.min(5, ctx.accounts.length)} accounts: lean against the edges`)
  }
  const windowsBefore = await unreadableWindows(redis, ctx.accounts)
  const best = await interleaved(ctx, targets, chosen, rounds, (round, route, target, m) =>
    say(
      `round ${round + 1} ${route.name} ${target.label}: ${m.result.perSecond.toFixed(0)} req/s, ${m.cpuMicros.toFixed(0)} µs CPU/request, p99 ${m.result.latency.p99.toFixed(2)} ms${m.result.unexpected + m.result.errors > 0 ? ` (${JSON.stringify(m.result.statuses)}, ${m.result.errors} errors)` : ""}${withoutText(route, m)}`
    )
  )
  const windowsAfter = await unreadableWindows(redis, ctx.accounts)
  say(
    `transactions windows that did not answer the newest page (the edge reads PostgreSQL for those): ${windowsBefore} before the runs, ${windowsAfter} after, of ${ctx.accounts.length}`
  )
  const lines = [
    `| route | ${targets.map((t) => t.label).join(" | ")} | ${servers.map((s) => `${s.label} / lean`).join(" | ")} |`,
    `|---|${targets.map(() => "---:").join("|")}|${servers.map(() => "---:").join("|")}|`
  ]
  for (const route of chosen) {
    const reference = best.get(`${route.name} lean reference`)!
    lines.push(
      `| GET ${route.path} | ${targets.map((t) => `${best.get(`${route.name} ${t.label}`)!.result.perSecond.toFixed(0)} req/s, ${best.get(`${route.name} ${t.label}`)!.cpuMicros.toFixed(0)} µs`).join(" | ")} | ${servers.map((s) => `${(best.get(`${route.name} ${s.label}`)!.result.perSecond / reference.result.perSecond).toFixed(2)}×`).join(" | ")} |`
    )
  }
  if (chosen.some((r) => r.name === "dashboard")) {
    // Each server at half its own peak, evenly paced (Http.paced), the lean reference included.
    for (const target of targets) {
      const rate = Math.floor(best.get(`dashboard ${target.label}`)!.result.perSecond / 2)
      const options = { url: `${target.url}/v1/dashboard`, connections, rate, vary: rotatingToken(ctx.tokens) }
      await paced({ ...options, seconds: warmupSeconds })
      const half = await paced({ ...options, seconds })
      lines.push(
        "",
        `${target.label}: GET /v1/dashboard at half its peak, paced (${rate} req/s offered, ${half.perSecond.toFixed(0)} answered): p50 ${half.latency.p50.toFixed(2)} ms, p99 ${half.latency.p99.toFixed(2)} ms, max ${half.latency.max.toFixed(1)} ms`
      )
    }
  }
  console.log(
    `${lines.join("\n")}\n\nload average at the end: ${(await import("node:os"))
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`
  )
} finally {
  say("stopping")
  await finish()
}
process.exit(0)
