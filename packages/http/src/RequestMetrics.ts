// Edge request durations as a Prometheus histogram (`http_request_duration_seconds`, labels
// method, route pattern and status; on the process's /metrics, platform Management.ts). The
// route is the pattern that matched (`/v1/transfers/:id`), never the raw path, so the number of
// series stays bounded; requests no route matched count as `unmatched`.
import { Effect, Metric } from "effect"
import type { MiddlewareHandler } from "hono"
import { matchedRoutes } from "hono/route"

export const requestDuration = Metric.histogram("http_request_duration_seconds", {
  description: "Edge requests from arrival to response, by method, route pattern and status.",
  boundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
})

export const requestMetrics: MiddlewareHandler = async (c, next) => {
  const started = performance.now()
  try {
    await next()
  } finally {
    // The last route with a handler is the endpoint; the ones before it are middleware ("/*").
    const route = matchedRoutes(c).findLast((r) => r.path !== "/*" && r.method !== "ALL")?.path ?? "unmatched"
    const attributes = { method: c.req.method, route, status: String(c.res.status) }
    Effect.runSync(
      Metric.update(Metric.withAttributes(requestDuration, attributes), (performance.now() - started) / 1000)
    )
  }
}
