// The edge's authenticated reads against their lean reference (issue 12): the real edge
// (`npm start`'s) and scripts/bench/servers/lean.ts (plain Hono + node-redis, no Effect, exactly
// each route's Redis reads) on the same Redis and data, driven by the same load generator in
// interleaved rounds (the order alternates), so a burst of someone else's work hits both alike.
// Per route: requests per second at saturation and CPU time per request of each server (from
// /proc: on a shared machine the steadier of the two), the ratio and the target. /healthz is
// compared with the reference's /healthz, a plain Hono route. Then the same edge build with
// tracing on (OTLP export to a local sink) against tracing off. For each missed target an edge
// of this checkout is profiled (`node --cpu-prof`) serving that route, and the top self-time
// frames of its busy time are named as the bound.
// Also used by scripts/bench-edge.ts (before/after across checkouts).
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { freePort } from "@bank/test-kit"
import { latencyText, rotatingAccount, rotatingToken, type BenchContext } from "../Context.ts"
import { fmt, notMeasured } from "../Figures.ts"
import { load, startServer, type LoadResult, type Server } from "../Http.ts"
import * as ProfileSummary from "../ProfileSummary.ts"
import { unreadableWindows } from "./Login.ts"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const group = "Edge against the lean reference"

export interface Route {
  readonly name: string
  /** The path requested, or (with `perAccount`) its pattern as reported. */
  readonly path: string
  /** The edge's rate over the reference's it should reach. */
  readonly target: number
  readonly authenticated: boolean
  /** Each request for another customer's own account (ctx.accounts), `{id}` in `path` its id. */
  readonly perAccount?: boolean
  /**
   * A header's only allowed value, e.g. X-Data-Source: redis; answers carrying it with another
   * value are counted (the edge sends X-Data-Source only with HTTP_DEBUG_HEADERS=true).
   */
  readonly header?: readonly [string, string]
}

export const routes: ReadonlyArray<Route> = [
  { name: "healthz", path: "/healthz", target: 0.8, authenticated: false },
  { name: "dashboard", path: "/v1/dashboard", target: 1.0, authenticated: true },
  { name: "profile", path: "/v1/profile", target: 0.8, authenticated: true },
  { name: "session", path: "/v1/session", target: 0.8, authenticated: true },
  { name: "products", path: "/v1/reference/products", target: 0.8, authenticated: true },
  { name: "exchange-rates", path: "/v1/reference/exchange-rates", target: 0.8, authenticated: true },
  {
    name: "transactions",
    path: "/v1/accounts/{id}/transactions",
    target: 0.8,
    authenticated: true,
    perAccount: true,
    header: ["x-data-source", "redis"]
  }
]

/** Whether `ctx` has what `route` needs: a token, and for `perAccount` a prefetched account. */
export const measurable = (ctx: Pick<BenchContext, "tokens" | "accounts">, route: Route): boolean =>
  !route.authenticated || (route.perAccount ? ctx.accounts.length > 0 : ctx.tokens.length > 0)

/** A server under measurement: where it listens and which process does the work. */
export interface Target {
  readonly label: string
  readonly url: string
  readonly pid: number
}

export interface Measured {
  readonly result: LoadResult
  /** CPU time of the server's process per answered request, µs (user + system). */
  readonly cpuMicros: number
  /** Of it, the kernel's share (system time: the sockets' reads and writes, mostly). */
  readonly systemMicros: number
  /** Answers of the measured run with another value of the route's `header` (e.g. served by PostgreSQL). */
  readonly without: number
}

/** A process's user and system CPU time so far, in clock ticks (10 ms). */
const ticksOf = (pid: number): { user: number; system: number } => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return { user: Number(fields[11]), system: Number(fields[12]) }
  } catch {
    return { user: Number.NaN, system: Number.NaN }
  }
}

const readlinkOr = (path: string): string => {
  try {
    return readlinkSync(path)
  } catch {
    return ""
  }
}

/** The pid of the process listening on `port` (the edge npm start runs), from /proc. */
export const listenerPid = (port: number): number | undefined => {
  const hex = port.toString(16).toUpperCase().padStart(4, "0")
  const inode = ["/proc/net/tcp", "/proc/net/tcp6"]
    .flatMap((file) => readFileSync(file, "utf8").split("\n"))
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(`:${hex}`) && f[3] === "0A")?.[9]
  if (inode === undefined) return undefined
  for (const dir of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readdirSync(`/proc/${dir}/fd`).some((fd) => readlinkOr(`/proc/${dir}/fd/${fd}`) === `socket:[${inode}]`))
        return Number(dir)
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined
}

/** Starts `node [nodeArgs] --import tsx packages/edge/src/main.ts` of checkout `dir` on the system's servers. */
export const startEdge = async (
  ctx: Pick<BenchContext, "stack">,
  options: {
    readonly dir?: string
    readonly env?: Readonly<Record<string, string>>
    readonly nodeArgs?: ReadonlyArray<string>
    readonly label: string
  }
): Promise<Target & Server> => {
  const port = await freePort()
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", "tsx", "packages/edge/src/main.ts"], {
    cwd: options.dir ?? root,
    env: { ...process.env, ...ctx.stack.env, ...options.env, PORT: String(port), LOG_LEVEL: "Warn" },
    stdio: ["ignore", "ignore", "inherit"]
  })
  const exited = new Promise<void>((r) => child.once("exit", () => r()))
  const stop = async () => {
    child.kill("SIGTERM")
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000).unref())])
  }
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 120_000
  while (
    (await fetch(`${url}/healthz`).then(
      (r) => r.status,
      () => 0
    )) !== 200
  ) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop()
      throw new Error(`the edge of ${options.dir ?? root} did not answer /healthz within 120 s`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  return { label: options.label, url, pid: child.pid!, stop }
}

/** One warmed-up run of `route` on `target` at full speed (or `rate`), with the server's CPU per request. */
export const measure = async (
  ctx: Pick<BenchContext, "seconds" | "warmupSeconds" | "connections" | "tokens" | "accounts">,
  target: Target,
  route: Route,
  rate?: number
): Promise<Measured> => {
  const options = {
    url: `${target.url}${route.perAccount ? route.path.replace("{id}", ctx.accounts[0]!.account) : route.path}`,
    connections: ctx.connections,
    ...(route.perAccount
      ? { vary: rotatingAccount(ctx.accounts) }
      : route.authenticated
        ? { vary: rotatingToken(ctx.tokens) }
        : {}),
    ...(rate ? { rate } : {})
  }
  let without = 0
  const header = route.header
  const onResponse = header
    ? (_status: number, headers: Readonly<Record<string, string>>) => {
        const value = Object.entries(headers).find(([name]) => name.toLowerCase() === header[0])?.[1]
        if (value !== undefined && value !== header[1]) without++
      }
    : undefined
  if (ctx.warmupSeconds > 0) await load({ ...options, seconds: ctx.warmupSeconds })
  const before = ticksOf(target.pid)
  const result = await load({ ...options, seconds: ctx.seconds, ...(onResponse ? { onResponse } : {}) })
  const after = ticksOf(target.pid)
  const perRequest = (ticks: number) => (ticks * 10_000) / Math.max(1, result.ok + result.unexpected)
  return {
    result,
    cpuMicros: perRequest(after.user - before.user + after.system - before.system),
    systemMicros: perRequest(after.system - before.system),
    without
  }
}

/**
 * Every route on every target, `rounds` times, the targets' order alternating; the best run of
 * each (route, target) by rate. `onRun` hears each run as it ends.
 */
export const interleaved = async (
  ctx: Pick<BenchContext, "seconds" | "warmupSeconds" | "connections" | "tokens" | "accounts">,
  targets: ReadonlyArray<Target>,
  chosen: ReadonlyArray<Route>,
  rounds: number,
  onRun: (round: number, route: Route, target: Target, m: Measured) => void
): Promise<Map<string, Measured>> => {
  const best = new Map<string, Measured>()
  for (let round = 0; round < rounds; round++) {
    for (const route of chosen) {
      for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
        const m = await measure(ctx, target, route)
        onRun(round, route, target, m)
        const key = `${route.name} ${target.label}`
        if ((best.get(key)?.result.perSecond ?? -1) < m.result.perSecond) best.set(key, m)
      }
    }
  }
  return best
}

/** An OTLP/HTTP endpoint that accepts every export and counts them. */
const startTraceSink = async () => {
  let exports = 0
  const server = createServer((request, response) => {
    request.resume()
    request.on("end", () => {
      exports++
      response.writeHead(200, { "Content-Type": "application/json" }).end("{}")
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports: () => exports,
    stop: () => new Promise<void>((r) => server.close(() => r()))
  }
}

/** " · N answers not <header>: <value>" when some had another value of the route's header (none: ""). */
export const withoutText = (route: Route, m: Measured): string =>
  route.header && m.without > 0 ? ` · ${m.without} answers not ${route.header[0]}: ${route.header[1]}` : ""

const pct = (x: number) => `${(x * 100).toFixed(1)}%`

const microsText = (m: Measured) =>
  `${fmt(m.cpuMicros, 0)} µs (${fmt(m.cpuMicros - m.systemMicros, 0)} user, ${fmt(m.systemMicros, 0)} system)`
const cpuText = (m: Measured) => `${microsText(m).replace(" µs", " µs CPU per request")}`

/** Profiles an edge of this checkout serving `route` for ctx.seconds: its top self-time frames. */
const profileEdge = async (ctx: BenchContext, route: Route): Promise<string> => {
  const dir = mkdtempSync(join(tmpdir(), "bank-edge-prof-"))
  try {
    const edge = await startEdge(ctx, { label: "profiled edge", nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`] })
    const m = await measure(ctx, edge, route)
    await edge.stop()
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))
    if (!file) return "no profile was written"
    const s = ProfileSummary.profileWindow(join(dir, file), ctx.seconds + 1)
    return (
      `profile of an edge serving GET ${route.path} (${fmt(m.result.perSecond, 0)} req/s, ${fmt(m.cpuMicros, 0)} µs CPU per request): ` +
      `${ProfileSummary.text(s, 5)}; top self time: ${s.functions
        .slice(0, 8)
        .map((f) => `${f.name} ${pct(f.share)}`)
        .join(", ")}`
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export const edgeReads = async (
  ctx: BenchContext,
  loginFailure: string | undefined,
  accountsFailure?: string | undefined
) => {
  for (const route of routes.filter((r) => !measurable(ctx, r)))
    ctx.figures.push(
      notMeasured(
        group,
        `GET ${route.path}`,
        "req/s",
        ctx.tokens.length === 0
          ? `no access token: ${loginFailure ?? "no login succeeded"}`
          : (accountsFailure ?? "no logged-in customer has a prefetched transactions window")
      )
    )
  const chosen = routes.filter((r) => measurable(ctx, r))
  const port = Number(new URL(ctx.stack.baseUrl).port)
  const edgePid = listenerPid(port)
  if (edgePid === undefined) throw new Error(`no process listens on the edge's port ${port}`)
  const lean = await startServer(
    "scripts/bench/servers/lean.ts",
    { REDIS_URL: ctx.stack.redis.url },
    ctx.log("bench-lean")
  )
  const sink = await startTraceSink()
  let traced: (Target & Server) | undefined
  try {
    traced = await startEdge(ctx, {
      label: "edge, tracing on",
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: "1000" }
    })
    const reference: Target = { label: "lean reference", url: lean.url, pid: lean.pid }
    const edge: Target = { label: "edge", url: ctx.stack.baseUrl, pid: edgePid }
    ctx.say("edge against the lean reference: interleaved rounds")
    const perAccount = chosen.some((r) => r.perAccount)
    const windowsBefore = perAccount ? await unreadableWindows(ctx.redis, ctx.accounts) : 0
    const best = await interleaved(ctx, [reference, edge], chosen, 2, (round, route, target, m) =>
      ctx.say(
        `  round ${round + 1} ${route.name} ${target.label}: ${fmt(m.result.perSecond, 0)} req/s, ${fmt(m.cpuMicros, 0)} µs CPU per request${withoutText(route, m)}`
      )
    )
    // Each account's window answered its page before the rounds and after them: the edge read Redis throughout.
    const windowsAfter = perAccount ? await unreadableWindows(ctx.redis, ctx.accounts) : 0
    const windowsText =
      windowsBefore + windowsAfter > 0
        ? ` · of ${ctx.accounts.length} accounts, ${windowsBefore} before the runs and ${windowsAfter} after had no window answering the page (PostgreSQL served those)`
        : ""
    const dashboard = chosen.find((r) => r.name === "dashboard")
    const tracing = dashboard
      ? await interleaved(ctx, [edge, traced], [dashboard], 2, (round, _route, target, m) =>
          ctx.say(`  tracing round ${round + 1} ${target.label}: ${fmt(m.result.perSecond, 0)} req/s`)
        )
      : undefined

    const missed: Array<{ route: Route; ratio: number }> = []
    for (const route of chosen) {
      const r = best.get(`${route.name} lean reference`)!
      const e = best.get(`${route.name} edge`)!
      const ratio = e.result.perSecond / Math.max(1e-9, r.result.perSecond)
      if (ratio < route.target) missed.push({ route, ratio })
    }
    const bounds = new Map<Route, string>()
    for (const { route } of missed)
      bounds.set(
        route,
        await profileEdge(ctx, route).catch(
          (error: unknown) => `the profile failed: ${error instanceof Error ? error.message : String(error)}`
        )
      )

    for (const route of chosen) {
      const r = best.get(`${route.name} lean reference`)!
      const e = best.get(`${route.name} edge`)!
      const baselineLabel = route.authenticated ? "lean reference" : "plain Hono (the reference's /healthz)"
      ctx.figures.push({
        group,
        label: `lean reference GET ${route.path}`,
        value: r.result.perSecond,
        unit: "req/s",
        detail: `${latencyText(r.result)} · ${cpuText(r)}`,
        chart: "http"
      })
      const met = e.result.perSecond >= route.target * r.result.perSecond
      const bound = bounds.get(route)
      ctx.figures.push({
        group,
        label: `edge GET ${route.path}`,
        value: e.result.perSecond,
        unit: "req/s",
        detail: `${latencyText(e.result)} · ${cpuText(e)} (reference ${fmt(r.cpuMicros, 0)} µs: ${fmt(r.cpuMicros / Math.max(1e-9, e.cpuMicros), 2)}× by CPU)${withoutText(route, e)}${route.perAccount ? windowsText : ""}`,
        baseline: { label: baselineLabel, value: r.result.perSecond },
        target: {
          text: `at least ${fmt(route.target, 1)}× the ${baselineLabel}${
            met || !bound
              ? ""
              : `; bound: the edge's CPU per request, ${microsText(e)} against ${microsText(r)}; ${bound}`
          }`,
          met
        },
        chart: "http"
      })
    }
    if (tracing && dashboard) {
      const off = tracing.get("dashboard edge")!
      const on = tracing.get("dashboard edge, tracing on")!
      ctx.figures.push({
        group,
        label: "edge GET /v1/dashboard, tracing on (OTLP export)",
        value: on.result.perSecond,
        unit: "req/s",
        detail: `${latencyText(on.result)} · ${fmt(on.cpuMicros, 0)} µs CPU per request (off: ${fmt(off.cpuMicros, 0)} µs); ${sink.exports()} exports received`,
        baseline: { label: "tracing off", value: off.result.perSecond },
        chart: "http"
      })
    }
  } finally {
    await Promise.all([lean.stop(), traced?.stop(), sink.stop()])
  }
  ctx.method.push(
    "Edge against the lean reference: `scripts/bench/servers/lean.ts` is plain Hono on @hono/node-server with one node-redis client and no Effect, doing exactly each route's Redis reads (the token's HGETALL, then the document's GET, the reference data's HMGET, or the transactions page's script, page.lua by EVALSHA; its /healthz is a plain Hono route), started beside the edge on the same Redis and data. The edge answers from its client-side caches under CLIENT TRACKING where it has them (the token record, the dashboard, profile and session documents, the reference data, and each transactions page: page.lua's reply rendered, dropped when Redis says the window's keys changed); the reference has none, so it does every route's Redis reads on every request. " +
      `Each route is driven on both by the same autocannon (${ctx.connections} connections, ${ctx.seconds} s after ${ctx.warmupSeconds} s warm-up, each request with the token of one of ${ctx.tokens.length} logged-in demo users in turn; the transactions page for one of ${ctx.accounts.length} of them in turn, of the account with the largest prefetched window, every edge answer checked for X-Data-Source: redis) in two interleaved rounds, the order alternating; the best round of each counts. ` +
      "CPU per request is the server process's user + system time over the run divided by the requests answered (/proc), which a busy machine disturbs less than the rate. " +
      "Tracing on: a second edge of the same build with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a sink in the benchmark's process, against the system's edge (tracing off), interleaved the same way. " +
      "A missed target names its bound from a V8 CPU profile (`node --cpu-prof`) of an edge of this checkout serving that route: its busy time over the load, by area and by function (self time). The profiler samples wall time: a thread waiting for a core counts where it was stopped, most often in the socket write that woke the load generator (writeUtf8String), so the user/system split of the CPU time (/proc) is the steadier guide to where the CPU went."
  )
}
