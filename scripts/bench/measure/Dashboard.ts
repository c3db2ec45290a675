// GET /v1/dashboard from Redis (the real edge, the document as the projector stored it) against
// the same dashboard assembled from PostgreSQL on every request (the probe edge's
// /v1/bench/dashboard-pg, @bank/dashboard's PgDashboard): throughput at saturation, latency with
// nothing queued, and the Redis route's p99 at half its peak rate.
import { latencyText, rotatingToken, saturate, type BenchContext, type Saturated } from "../Context.ts"
import { fmt, notMeasured } from "../Figures.ts"
import { load, sequential, startServer } from "../Http.ts"
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

  ctx.say("dashboard from Redis at half its peak rate")
  const rate = Math.max(1, Math.floor(redis.result.perSecond / 2))
  const meter = cpuMeter()
  const perProcess = processMeter(ctx.known)
  const half = await load({
    url,
    vary: rotatingToken(ctx.tokens),
    connections: ctx.connections,
    seconds: ctx.seconds,
    rate
  })
  ctx.figures.push({
    group,
    label: labels.half,
    value: half.latency.p99,
    unit: "ms",
    detail: `${fmt(rate, 0)} req/s offered, ${fmt(half.perSecond, 0)} answered; p50 ${half.latency.p50.toFixed(2)} ms, max ${half.latency.max.toFixed(1)} ms`,
    target: { text: "p99 under 5 ms", met: half.latency.p99 < 5 },
    cpu: meter(),
    processes: perProcess(),
    chart: "latency"
  })

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
      `Each request carries the token of one of ${ctx.tokens.length} logged-in demo users in turn. Saturation as for the edge ceiling; "unloaded" is 3 s of requests one at a time; "half its peak rate" offers half the saturated rate (autocannon overallRate) for ${ctx.seconds} s.`
  )
}
