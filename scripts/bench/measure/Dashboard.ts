// GET /v1/dashboard from Redis (the real edge, the document as the projector stored it) against
// the same dashboard assembled from PostgreSQL on every request (the probe edge's
// /v1/bench/dashboard-pg, @bank/dashboard's PgDashboard): throughput at saturation, latency with
// nothing queued, and the Redis route's p99 at half its peak rate.
import { latencyText, rotatingToken, saturate, type BenchContext, type Saturated } from "../Context.ts"
import { fmt, notMeasured } from "../Figures.ts"
import { paced, sequential, startServer } from "../Http.ts"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { cpuMeter } from "../Machine.ts"
import { processMeter } from "../Processes.ts"

const probeStatus = async (url: string, token: string) => {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000)
  }).catch(() => undefined)
  return response
    ? { status: response.status, bytes: (await response.arrayBuffer()).byteLength }
    : { status: 0, bytes: 0 }
}

export const dashboard = async (ctx: BenchContext, hono: Saturated, loginFailure: string | undefined) => {
  const group = "Dashboard"
  const labels = {
    redis: "GET /v1/dashboard from Redis",
    pg: "the same dashboard assembled from PostgreSQL",
    half: "GET /v1/dashboard p99 at half its peak rate"
  }
  if (loginFailure || ctx.tokens.length === 0) {
    for (const label of Object.values(labels))
      ctx.figures.push(notMeasured(group, label, "req/s", `no access token: ${loginFailure ?? "no login succeeded"}`))
    return
  }
  const url = `${ctx.stack.baseUrl}/v1/dashboard`
  const first = await probeStatus(url, ctx.tokens[0]!)
  if (first.status !== 200) {
    const why =
      first.status === 404
        ? "the edge does not serve GET /v1/dashboard yet (404)"
        : `GET /v1/dashboard answered ${first.status}`
    for (const label of Object.values(labels)) ctx.figures.push(notMeasured(group, label, "req/s", why))
    return
  }
  ctx.say("dashboard from Redis: unloaded latency, then saturation")
  const unloaded = await sequential({ url, seconds: 3, vary: rotatingToken(ctx.tokens) })
  const redis = await saturate(ctx, { url, vary: rotatingToken(ctx.tokens) })
  ctx.figures.push({
    group,
    label: labels.redis,
    value: redis.result.perSecond,
    unit: "req/s",
    detail: `at saturation ${latencyText(redis.result)}; unloaded p50 ${unloaded.latency.p50.toFixed(2)} ms, p99 ${unloaded.latency.p99.toFixed(2)} ms; documents of ~${fmt(first.bytes / 1024, 1)} KiB`,
    baseline: { label: "plain Hono", value: hono.result.perSecond },
    target: {
      text: "at least 50% of the plain Hono route",
      met: redis.result.perSecond >= 0.5 * hono.result.perSecond
    },
    cpu: redis.cpu,
    processes: redis.processes,
    chart: "http"
  })

  // Half of each server's own peak, paced evenly (Http.paced); the lean reference (plain Hono +
  // node-redis, the same two reads) at half of its peak is the baseline: what the machine and the
  // load generator allow for this work. Below both, the floor: a bare node:http server sending a
  // body of the document's size at the edge's rate, and how late the generator's own event loop
  // ran meanwhile (an answer is timed when the generator gets to it).
  ctx.say("dashboard from Redis at half its peak rate, the lean reference at half its own, and the floor")
  const lean = await startServer(
    "scripts/bench/servers/lean.ts",
    { REDIS_URL: ctx.stack.redis.url },
    ctx.log("bench-lean")
  )
  const bare = await startServer(
    "scripts/bench/servers/bare.ts",
    { BODY_BYTES: String(first.bytes) },
    ctx.log("bench-bare")
  )
  try {
    const leanUrl = `${lean.url}/v1/dashboard`
    const leanPeak = await saturate(ctx, { url: leanUrl, vary: rotatingToken(ctx.tokens) })
    const atHalf = async (target: string, peak: number) => {
      const rate = Math.max(1, Math.floor(peak / 2))
      const warmup = { url: target, vary: rotatingToken(ctx.tokens), connections: ctx.connections, rate }
      if (ctx.warmupSeconds > 0) await paced({ ...warmup, seconds: ctx.warmupSeconds })
      const meter = cpuMeter()
      const perProcess = processMeter(ctx.known)
      const loop = monitorEventLoopDelay({ resolution: 1 })
      loop.enable()
      const result = await paced({ ...warmup, seconds: ctx.seconds })
      loop.disable()
      // The timer's own 1 ms resolution is not lateness.
      const late = Math.max(0, loop.percentile(99) / 1e6 - 1)
      return { rate, result, late, cpu: meter(), processes: perProcess() }
    }
    const leanHalf = await atHalf(leanUrl, leanPeak.result.perSecond)
    const half = await atHalf(url, redis.result.perSecond)
    const floor = await atHalf(`${bare.url}/`, redis.result.perSecond)
    const lateText = (m: { late: number }) => `the generator's event loop p99 ${m.late.toFixed(1)} ms late`
    ctx.figures.push(
      {
        group,
        label: "bare node:http, a body of the same size, p99 at the edge's half-peak rate",
        value: floor.result.latency.p99,
        unit: "ms",
        detail: `${fmt(floor.rate, 0)} req/s offered, ${fmt(floor.result.perSecond, 0)} answered; p50 ${floor.result.latency.p50.toFixed(2)} ms, max ${floor.result.latency.max.toFixed(1)} ms; ${lateText(floor)}`,
        cpu: floor.cpu,
        processes: floor.processes,
        chart: "latency"
      },
      {
        group,
        label: "lean reference GET /v1/dashboard p99 at half its peak rate",
        value: leanHalf.result.latency.p99,
        unit: "ms",
        detail: `peak ${fmt(leanPeak.result.perSecond, 0)} req/s; ${fmt(leanHalf.rate, 0)} req/s offered, ${fmt(leanHalf.result.perSecond, 0)} answered; p50 ${leanHalf.result.latency.p50.toFixed(2)} ms, max ${leanHalf.result.latency.max.toFixed(1)} ms; ${lateText(leanHalf)}`,
        cpu: leanHalf.cpu,
        processes: leanHalf.processes,
        chart: "latency"
      },
      {
        group,
        label: labels.half,
        value: half.result.latency.p99,
        unit: "ms",
        detail: `${fmt(half.rate, 0)} req/s offered, ${fmt(half.result.perSecond, 0)} answered; p50 ${half.result.latency.p50.toFixed(2)} ms, max ${half.result.latency.max.toFixed(1)} ms; ${lateText(half)}`,
        baseline: { label: "the lean reference at half its peak", value: leanHalf.result.latency.p99 },
        target: {
          text: `p99 under 5 ms${
            half.result.latency.p99 < 5
              ? ""
              : `; bound: the load generator on the same two cores: a bare node:http server sending a body of the same size at the same rate got p99 ${floor.result.latency.p99.toFixed(1)} ms from it (${lateText(floor)}), the lean reference ${leanHalf.result.latency.p99.toFixed(1)} ms at half its own peak`
          }`,
          met: half.result.latency.p99 < 5
        },
        cpu: half.cpu,
        processes: half.processes,
        chart: "latency"
      }
    )
  } finally {
    await Promise.all([lean.stop(), bare.stop()])
  }

  const probe = await startServer(
    "scripts/bench/servers/probe.ts",
    { ...ctx.stack.env, IDENTITY_TOKEN_CACHE: "false" },
    ctx.log("bench-probe-pg")
  )
  try {
    const pgUrl = `${probe.url}/v1/bench/dashboard-pg`
    const check = await probeStatus(pgUrl, ctx.tokens[0]!)
    if (check.status !== 200) {
      ctx.figures.push(
        notMeasured(
          group,
          labels.pg,
          "req/s",
          check.status === 404
            ? "@bank/dashboard has no PgDashboard to assemble it with"
            : `the PostgreSQL route answered ${check.status}`
        )
      )
      return
    }
    ctx.say("dashboard from PostgreSQL: unloaded latency, then saturation")
    const pgUnloaded = await sequential({ url: pgUrl, seconds: 3, vary: rotatingToken(ctx.tokens) })
    const pg = await saturate(ctx, { url: pgUrl, vary: rotatingToken(ctx.tokens) })
    ctx.figures.push({
      group,
      label: labels.pg,
      value: pg.result.perSecond,
      unit: "req/s",
      detail: `at saturation ${latencyText(pg.result)}; unloaded p50 ${pgUnloaded.latency.p50.toFixed(2)} ms, p99 ${pgUnloaded.latency.p99.toFixed(2)} ms; Redis serves ${fmt(redis.result.perSecond / Math.max(1e-9, pg.result.perSecond), 2)}× as many`,
      baseline: { label: "the Redis dashboard", value: redis.result.perSecond },
      target: { text: "Redis at least 10× this", met: redis.result.perSecond >= 10 * pg.result.perSecond },
      cpu: pg.cpu,
      processes: pg.processes,
      chart: "http"
    })
    ctx.figures.push(
      {
        group,
        label: "GET /v1/dashboard unloaded p50, from Redis",
        value: unloaded.latency.p50,
        unit: "ms",
        detail: `one request at a time; p99 ${unloaded.latency.p99.toFixed(2)} ms`,
        chart: "latency"
      },
      {
        group,
        label: "the same unloaded p50, from PostgreSQL",
        value: pgUnloaded.latency.p50,
        unit: "ms",
        detail: `one request at a time; p99 ${pgUnloaded.latency.p99.toFixed(2)} ms`,
        baseline: { label: "from Redis", value: unloaded.latency.p50 },
        chart: "latency"
      }
    )
  } finally {
    await probe.stop()
  }
  ctx.method.push(
    `Dashboard: the Redis figure is the real edge's GET /v1/dashboard (the stored document, sent as is); the PostgreSQL figure is the probe edge's /v1/bench/dashboard-pg, which assembles the same document with @bank/dashboard's PgDashboard (8 indexed queries) on every request, behind the same token check. ` +
      `Each request carries the token of one of ${ctx.tokens.length} logged-in demo users in turn. Saturation as for the edge ceiling; "unloaded" is 3 s of requests one at a time; "half its peak rate" sends half the saturated rate for ${ctx.seconds} s after ${ctx.warmupSeconds} s of warm-up, evenly paced (one request every 1/rate s, on up to ${ctx.connections} keep-alive connections, each timed from its release by a 1 ms timer, including any wait for a free connection: an open model, as wrk2 and k6's constant-arrival-rate; autocannon's rate option sends each second's share in a burst and then waits, which is saturation in bursts); the lean reference (scripts/bench/servers/lean.ts, the same two Redis reads in plain Hono + node-redis) is measured the same way at half its own peak, as the baseline of what the machine and the load generator allow, and below both the floor: \`scripts/bench/servers/bare.ts\` (node:http, no framework) sending a body of the document's size at the edge's half-peak rate; for each run, how late the generator's own event loop ran (p99 of \`monitorEventLoopDelay\`, less its 1 ms resolution), since an answer is timed when the generator gets to it.`
  )
}
