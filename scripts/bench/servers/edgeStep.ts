// A `GET /healthz` server for scripts/bench/edgeStep.ts: the edge's request step taken apart, so
// each piece's cost per request can be measured against plain Hono on the same machine. VARIANT
// (environment) chooses what answers:
//   node            node:http alone writing the same answer (the floor)
//   hono            plain Hono on @hono/node-server's `serve`, `c.json({ status: "ok" })` (the lean
//                   reference's /healthz)
//   edge            the edge's own app (makeApp: the real request step, CORS off) on the edge's own
//                   Node server (EdgeServer.ts), as in production
//   edge-serve      the same app on @hono/node-server's `serve` (the edge's server wrapper apart)
//   edge-bare       the same app on a bare node:http server answering with EdgeResponse (the
//                   request step's Node path, without the graceful-shutdown bookkeeping)
//   step:PIECES     plain Hono on `serve` with a middleware doing only PIECES (comma-separated) of
//                   what the request step does:
//                     pass     nothing: `return next()` (what any middleware costs)
//                     then     wraps `next()` in Promise.resolve(...).then(...) (the step's shape)
//                     id       the request id (header read, UUID, c.set)
//                     touch    reads c.res.headers (the adapter's Headers materialize)
//                     headers  ResponseHeaders.apply on c.res.headers
//                     route    RequestMetrics.routeOf (matchedRoutes)
//                     metric   RequestMetrics.record with the matched route
// Prints `listening <port>`.
import { serve } from "@hono/node-server"
import { getRequestListener } from "@hono/node-server"
import { Context } from "effect"
import { Hono, type MiddlewareHandler } from "hono"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { makeApp } from "../../../packages/http/src/App.ts"
import { nodeServer } from "../../../packages/http/src/EdgeServer.ts"
import { EdgeResponse } from "../../../packages/http/src/NodeResponse.ts"
import * as RequestMetrics from "../../../packages/http/src/RequestMetrics.ts"
import { requestIdOf } from "../../../packages/http/src/RequestStep.ts"
import * as ResponseHeaders from "../../../packages/http/src/ResponseHeaders.ts"

const variant = process.env.VARIANT ?? "hono"
const listening = (port: number) => console.log(`listening ${port}`)

const stepOf = (pieces: ReadonlySet<string>): MiddlewareHandler => {
  const has = (piece: string) => pieces.has(piece)
  return (c, next) => {
    if (has("pass")) return next()
    const started = performance.now()
    let requestId = ""
    if (has("id")) {
      requestId = requestIdOf(c.req.header("X-Request-Id"))
      c.set("requestId", requestId)
    }
    const method = c.req.method
    const after = () => {
      if (has("touch")) c.res.headers.get("X-Request-Id")
      if (has("headers")) ResponseHeaders.apply(c, c.res.headers, requestId || "fixed", {})
      const route = has("route") || has("metric") ? RequestMetrics.routeOf(c) : "/healthz"
      if (has("metric")) RequestMetrics.record(method, route, c.res.status, (performance.now() - started) / 1000)
    }
    if (has("then")) return Promise.resolve(next()).then(after)
    return next().then(after)
  }
}

if (variant === "node") {
  const body = JSON.stringify({ status: "ok" })
  const server = createServer((_request, response) => {
    response.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) })
    response.end(body)
  })
  server.listen(0, "127.0.0.1", () => listening((server.address() as AddressInfo).port))
} else if (variant === "edge" || variant === "edge-serve" || variant === "edge-bare") {
  // /healthz needs none of the services; the context only has to exist.
  const app = makeApp({ context: Context.empty() as never })
  if (variant === "edge") {
    const { server } = nodeServer(getRequestListener(app.fetch))
    server.listen(0, "127.0.0.1", () => listening((server.address() as AddressInfo).port))
  } else if (variant === "edge-bare") {
    const server = createServer({ ServerResponse: EdgeResponse }, getRequestListener(app.fetch))
    server.listen(0, "127.0.0.1", () => listening((server.address() as AddressInfo).port))
  } else serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => listening(info.port))
} else {
  const app = new Hono()
  if (variant.startsWith("step:")) app.use(stepOf(new Set(variant.slice(5).split(","))))
  else if (variant !== "hono") throw new Error(`unknown VARIANT ${variant}`)
  app.get("/healthz", (c) => c.json({ status: "ok" }))
  serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => listening(info.port))
}
process.on("SIGTERM", () => process.exit(0))
