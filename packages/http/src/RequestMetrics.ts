// Edge request durations as a Prometheus histogram (`http_request_duration_seconds`, labels
// method, route pattern and status; on the process's /metrics, platform Management.ts). The
// route is the pattern that matched (`/v1/transfers/:id`), never the raw path, so the number of
// series stays bounded; requests no route matched count as `unmatched`.
//
// Recorded synchronously by the request step (RequestStep.ts): each series is resolved once
// and then updated in place, with no Effect run per request.
import { Context, Metric } from "effect"
import type { Context as HonoContext } from "hono"
import { matchedRoutes } from "hono/route"

export const requestDuration = Metric.histogram("http_request_duration_seconds", {
  description: "Edge requests from arrival to response, by method, route pattern and status.",
  boundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
})

// The default services: the global metric registry every process's /metrics reads.
const defaults = Context.empty()
const series = new Map<string, Metric.Metric<number, unknown>>()

/** The pattern of the route that answered: the last matched route with a handler that is not middleware. */
export const routeOf = (c: HonoContext): string =>
  matchedRoutes(c).findLast((r) => r.path !== "/*" && r.method !== "ALL")?.path ?? "unmatched"

/** Records one request that took `seconds`. */
export const record = (method: string, route: string, status: number, seconds: number): void => {
  const key = `${method} ${status} ${route}`
  let metric = series.get(key)
  if (metric === undefined) {
    metric = Metric.withAttributes(requestDuration, { method, route, status: String(status) })
    series.set(key, metric)
  }
  metric.updateUnsafe(seconds, defaults)
}
