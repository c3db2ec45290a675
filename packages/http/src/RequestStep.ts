// The one step around every request of the edge, in place of a middleware each: the request id,
// the body-size limit, the edge's response headers (ResponseHeaders.ts) and the request's
// duration (RequestMetrics.ts). Before the route: the request id (the client's own `X-Request-Id`
// when it is short and plain, letters, digits, `_`, `-`, `=`, so it cannot inject anything into
// headers or logs; otherwise a new UUID), on the context as "requestId". After it: the headers
// and the metric, synchronously, on whatever answered (a route, a problem, a rejection).
//
// Served by the edge's Node server (an EdgeResponse, NodeResponse.ts), "after" is the moment the
// status line is written: the step hands over what it knows and returns the route's own promise,
// with no work of its own after the route and no Fetch `Headers` touched. Anywhere else (tests'
// `app.request`) it waits for the route and sets the headers on `c.res.headers`.
//
// GET and HEAD bodies are never read, so only other methods go through the body limit; checking
// them would make the Node adapter build a full Request for every read.
import type { MiddlewareHandler } from "hono"
import { EdgeResponse } from "./NodeResponse.ts"
import type { EdgeEnv } from "./ProblemDetails.ts"
import * as RequestMetrics from "./RequestMetrics.ts"
import * as ResponseHeaders from "./ResponseHeaders.ts"

export interface Options extends ResponseHeaders.Options {
  /** The body-size limit (Hono's bodyLimit answering problem+json), for methods that carry a body. */
  readonly limitBody: MiddlewareHandler<EdgeEnv>
}

/** Longest client request id kept. */
export const requestIdMaxLength = 128
const notPlain = /[^\w\-=]/

export const requestIdOf = (offered: string | undefined): string =>
  offered !== undefined && offered !== "" && offered.length <= requestIdMaxLength && !notPlain.test(offered)
    ? offered
    : crypto.randomUUID()

export const requestStep =
  (options: Options): MiddlewareHandler<EdgeEnv> =>
  (c, next) => {
    const started = performance.now()
    const requestId = requestIdOf(c.req.header("X-Request-Id"))
    c.set("requestId", requestId)
    const method = c.req.method
    const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing
    if (outgoing instanceof EdgeResponse) {
      outgoing.pending = { requestId, method, route: RequestMetrics.routeOf(c), started, options }
      return method === "GET" || method === "HEAD" ? next() : options.limitBody(c, next)
    }
    const record = () =>
      RequestMetrics.record(method, RequestMetrics.routeOf(c), c.res.status, (performance.now() - started) / 1000)
    const answered = method === "GET" || method === "HEAD" ? next() : options.limitBody(c, next)
    return Promise.resolve(answered).then(
      (response) => {
        // The body limit answers 413 itself, without the route (Hono's compose would take it).
        if (response instanceof Response && !c.finalized) c.res = response
        ResponseHeaders.apply(c, c.res.headers, requestId, options)
        record()
      },
      (error: unknown) => {
        record()
        throw error
      }
    )
  }
