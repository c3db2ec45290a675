// The edge ceiling and the token check:
//   bare node:http → plain Hono → the edge's app (no-op route outside /v1) → the same no-op
//   behind the token check (direct lookup, then RESP3 client-side caching).
// Throughput at saturation, and the token check's added latency at p50 from sequential requests
// (one connection, nothing queues), so the difference is the check itself.
import { latencyText, rotatingToken, saturate, type BenchContext, type Saturated } from "../Context.ts"
import { notMeasured } from "../Figures.ts"
import { sequential, startServer, type Server } from "../Http.ts"

const withServer = async <A>(
  ctx: BenchContext,
  name: string,
  file: string,
  env: Record<string, string>,
  use: (server: Server) => Promise<A>
): Promise<A> => {
  const server = await startServer(file, env, ctx.log(name))
  try {
    return await use(server)
  } finally {
    await server.stop()
  }
}

/** The better of two runs: a ceiling is what the machine can do when nothing else gets in the way. */
const best = (a: Saturated, b: Saturated) => (b.result.perSecond > a.result.perSecond ? b : a)

export const ceiling = async (ctx: BenchContext): Promise<{ bare: Saturated; hono: Saturated }> => {
  const bareServer = await startServer("scripts/bench/servers/bare.ts", {}, ctx.log("bench-bare"))
  const honoServer = await startServer("scripts/bench/servers/hono.ts", {}, ctx.log("bench-hono"))
  let bare: Saturated
  let hono: Saturated
  try {
    // Alternated, so that a burst of someone else's work does not hit only one of them.
    ctx.say("edge ceiling: bare node:http, plain Hono, twice each")
    const runs = []
    for (let round = 0; round < 2; round++) {
      runs.push(
        await saturate(ctx, { url: `${bareServer.url}/noop` }),
        await saturate(ctx, { url: `${honoServer.url}/noop` })
      )
    }
    bare = best(runs[0]!, runs[2]!)
    hono = best(runs[1]!, runs[3]!)
  } finally {
    await Promise.all([bareServer.stop(), honoServer.stop()])
  }
  ctx.figures.push(
    {
      group: "Edge ceiling",
      label: "bare node:http route",
      value: bare.result.perSecond,
      unit: "req/s",
      detail: latencyText(bare.result),
      cpu: bare.cpu,
      processes: bare.processes,
      chart: "http"
    },
    {
      group: "Edge ceiling",
      label: "plain Hono route",
      value: hono.result.perSecond,
      unit: "req/s",
      detail: latencyText(hono.result),
      baseline: { label: "bare node:http", value: bare.result.perSecond },
      cpu: hono.cpu,
      processes: hono.processes,
      chart: "http"
    }
  )
  ctx.method.push(
    `Edge ceiling: \`scripts/bench/servers/bare.ts\` (node:http) and \`servers/hono.ts\` (Hono on @hono/node-server, as the edge) answer \`{"ok":true}\`; autocannon with ${ctx.connections} keep-alive connections for ${ctx.seconds} s after ${ctx.warmupSeconds} s of warm-up. req/s counts 2xx answers only.`
  )
  return { bare, hono }
}

const identityPresent = async () => {
  try {
    await import("@bank/identity")
    return true
  } catch {
    return false
  }
}

/** The edge's own no-op and the token-checked no-op; needs access tokens in ctx.tokens. */
export const tokenCheck = async (
  ctx: BenchContext,
  hono: Saturated,
  loginFailure: string | undefined
): Promise<Saturated | undefined> => {
  const group = "Token check"
  if (!(await identityPresent())) {
    ctx.figures.push(
      notMeasured(group, "token-checked no-op route", "req/s", "the identity package (token check) is not there")
    )
    return undefined
  }
  const env = { ...ctx.stack.env, IDENTITY_TOKEN_CACHE: "false" }
  let edgeNoop: Saturated | undefined
  await withServer(ctx, "bench-probe", "scripts/bench/servers/probe.ts", env, async (probe) => {
    ctx.say("edge no-op (the edge's app, no token check)")
    edgeNoop = await saturate(ctx, { url: `${probe.url}/bench/noop` })
    ctx.figures.push({
      group: "Edge ceiling",
      label: "edge app no-op (middleware + Effect run, no token)",
      value: edgeNoop.result.perSecond,
      unit: "req/s",
      detail: latencyText(edgeNoop.result),
      baseline: { label: "plain Hono", value: hono.result.perSecond },
      cpu: edgeNoop.cpu,
      processes: edgeNoop.processes,
      chart: "http"
    })
    if (ctx.tokens.length === 0) {
      ctx.figures.push(
        notMeasured(
          group,
          "token-checked no-op route",
          "req/s",
          `no access token: ${loginFailure ?? "no login succeeded"}`
        )
      )
      return
    }
    const tokens = ctx.tokens
    ctx.say("token check: added latency, sequential requests")
    const plain = await sequential({ url: `${probe.url}/bench/noop`, seconds: Math.max(3, ctx.seconds / 2) })
    const checked = await sequential({
      url: `${probe.url}/v1/bench/noop`,
      seconds: Math.max(3, ctx.seconds / 2),
      vary: rotatingToken(tokens)
    })
    const addedMicros = (checked.latency.p50 - plain.latency.p50) * 1000
    ctx.figures.push({
      group,
      label: "added latency of the token check, p50 (direct lookup)",
      value: addedMicros,
      unit: "µs",
      detail: `no-op p50 ${plain.latency.p50.toFixed(3)} ms without, ${checked.latency.p50.toFixed(3)} ms with the check; p99 ${plain.latency.p99.toFixed(3)} / ${checked.latency.p99.toFixed(3)} ms`,
      target: { text: "under 100 µs at p50", met: addedMicros < 100 }
    })
    ctx.say("token check: throughput, direct lookup")
    const direct = await saturate(ctx, { url: `${probe.url}/v1/bench/noop`, vary: rotatingToken(tokens) })
    ctx.figures.push({
      group,
      label: "token-checked no-op route (direct lookup)",
      value: direct.result.perSecond,
      unit: "req/s",
      detail: latencyText(direct.result),
      baseline: { label: "edge app no-op", value: edgeNoop.result.perSecond },
      cpu: direct.cpu,
      processes: direct.processes,
      chart: "http"
    })
  })
  if (ctx.tokens.length > 0) {
    await withServer(
      ctx,
      "bench-probe-cached",
      "scripts/bench/servers/probe.ts",
      { ...ctx.stack.env, IDENTITY_TOKEN_CACHE: "true" },
      async (probe) => {
        ctx.say("token check: client-side caching")
        const plain = await sequential({ url: `${probe.url}/bench/noop`, seconds: Math.max(3, ctx.seconds / 2) })
        const checked = await sequential({
          url: `${probe.url}/v1/bench/noop`,
          seconds: Math.max(3, ctx.seconds / 2),
          vary: rotatingToken(ctx.tokens)
        })
        const addedMicros = (checked.latency.p50 - plain.latency.p50) * 1000
        ctx.figures.push({
          group,
          label: "added latency of the token check, p50 (client-side cache)",
          value: addedMicros,
          unit: "µs",
          detail: `no-op p50 ${plain.latency.p50.toFixed(3)} ms without, ${checked.latency.p50.toFixed(3)} ms with the check`,
          target: { text: "under 100 µs at p50", met: addedMicros < 100 }
        })
        const cached = await saturate(ctx, { url: `${probe.url}/v1/bench/noop`, vary: rotatingToken(ctx.tokens) })
        ctx.figures.push({
          group,
          label: "token-checked no-op route (client-side cache)",
          value: cached.result.perSecond,
          unit: "req/s",
          detail: latencyText(cached.result),
          baseline: { label: "edge app no-op", value: edgeNoop!.result.perSecond },
          cpu: cached.cpu,
          processes: cached.processes,
          chart: "http"
        })
      }
    )
  }
  ctx.method.push(
    "Token check: `scripts/bench/servers/probe.ts` composes the edge exactly as `packages/edge/src/main.ts` does (identity routes first, so their token check guards every /v1 route) and adds a no-op at `/bench/noop` (outside /v1: no check) and `/v1/bench/noop` (behind the check). " +
      `Added latency = p50 with minus p50 without, over ${Math.max(3, ctx.seconds / 2)} s of requests one after another on one connection, each with the token of one of ${ctx.tokens.length} logged-in demo users in turn; throughput as for the edge ceiling. ` +
      "Run once with IDENTITY_TOKEN_CACHE=false (one HGETALL per request) and once with true (RESP3 client-side caching)."
  )
  return edgeNoop
}
