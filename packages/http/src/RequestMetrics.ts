// Edge request durations as a Prometheus histogram (`http_request_duration_seconds`, labels
// method, route pattern and status; on the process's /metrics, platform Management.ts). The
// route is the pattern that matched (`/v1/transfers/:id`), never the raw path, so the number of
// series stays bounded; requests no route matched count as `unmatched`.
//
// Recorded synchronously by the request step (RequestStep.ts, or on Node when the status line
// is written: NodeResponse.ts), with no Effect run per request. Each series is a histogram of its
// own, made once with its labels as the metric's attributes and kept in a map by route, method
// and status: an update looks up three maps with the strings it was given and touches no other
// string. (`Metric.withAttributes` on one shared histogram would, in effect 4.1, build a new
// context on every update and re-key the series whenever the previous update was another series.)
import { Context, Metric } from "effect"
import type { Context as HonoContext } from "hono"
import { matchedRoutes } from "hono/route"

const name = "http_request_duration_seconds"
const options = {
  description: "Edge requests from arrival to response, by method, route pattern and status.",
  boundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
}

/** The histogram without labels; every recorded series is this one with method, route and status. */
export const requestDuration = Metric.histogram(name, options)

// The default services: the global metric registry every process's /metrics reads.
const defaults = Context.empty()
const series = new Map<string, Map<string, Map<number, Metric.Metric<number, unknown>>>>()

/** The pattern of the route that answered: the last matched route with a handler that is not middleware. */
export const routeOf = (c: HonoContext): string =>
  matchedRoutes(c).findLast((r) => r.path !== "/*" && r.method !== "ALL")?.path ?? "unmatched"

const seriesOf = (method: string, route: string, status: number): Metric.Metric<number, unknown> => {
  let byMethod = series.get(route)
  if (byMethod === undefined) series.set(route, (byMethod = new Map()))
  let byStatus = byMethod.get(method)
  if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()))
  let metric = byStatus.get(status)
  if (metric === undefined) {
    metric = Metric.histogram(name, { ...options, attributes: { method, route, status: String(status) } })
    byStatus.set(status, metric)
  }
  return metric
}

/** Records one request that took `seconds`. */
export const record = (method: string, route: string, status: number, seconds: number): void =>
  seriesOf(method, route, status).updateUnsafe(seconds, defaults)
