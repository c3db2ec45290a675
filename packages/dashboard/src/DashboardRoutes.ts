// The dashboard HTTP API (behind the edge's token check; the customer is always the caller):
//   GET /v1/dashboard         → 200 the caller's dashboard document, as stored (no re-encoding),
//                               with `asOf`; an empty dashboard while the caller has no product
//   GET /v1/dashboard/events  → Server-Sent Events: `event: dashboard`, `data:` the whole
//                               document, `id:` the `dashboard.changes` entry id; reconnecting
//                               with Last-Event-ID resumes (DashboardFeed.ts); a comment line
//                               every 15 s (heartbeatMs) keeps idle proxies from hanging up
// No route takes a customer id: another customer's dashboard cannot even be named. The document
// is read from the generation readers use now (ReadModel), resolved once per request.
import type { Principal } from "@bank/contracts"
import type { Routes } from "@bank/http"
import { principalOf } from "@bank/http"
import { DocumentStore, ReadModel } from "@bank/platform"
import { Effect, Option } from "effect"
import type { Context } from "hono"
import { streamSSE } from "hono/streaming"
import * as Dashboard from "./Dashboard.ts"
import { DashboardFeed } from "./DashboardFeed.ts"
import { readModel } from "./DashboardProjector.ts"

export type Services = DocumentStore.DocumentStore | DashboardFeed | ReadModel.ReadModel

/** The caller, as the edge's token check put it on the request (a route not behind it is a bug: 500). */
export const callerOf = (c: Context<any>): Effect.Effect<Principal> => Effect.sync(() => principalOf(c))

export interface RouteOptions {
  /** Comment lines on an idle event stream, in ms (default 15 s). */
  readonly heartbeatMs?: number
}

export const dashboardRoutes = (options: RouteOptions = {}): Routes<Services, never> => (app, run) => {
  const heartbeatMs = options.heartbeatMs ?? 15_000

  app.get("/v1/dashboard", (c) =>
    run(c, Effect.gen(function*() {
      const { customerId } = yield* callerOf(c)
      const store = yield* DocumentStore.DocumentStore
      const key = yield* ReadModel.ReadModel.use((r) => r.documentKey(readModel, customerId))
      const raw = yield* store.getRaw(key)
      const body = Option.getOrElse(raw, () => JSON.stringify(Dashboard.empty(customerId)))
      return c.body(body, 200, { "Content-Type": "application/json", "Cache-Control": "private, no-store" })
    })))

  app.get("/v1/dashboard/events", (c) =>
    run(c, Effect.gen(function*() {
      const { customerId } = yield* callerOf(c)
      const feed = yield* DashboardFeed
      const subscription = yield* feed.subscribe(customerId, c.req.header("Last-Event-ID"))
      c.header("Cache-Control", "private, no-store")
      // Proxies such as nginx buffer responses unless told not to.
      c.header("X-Accel-Buffering", "no")
      return streamSSE(c, async (stream) => {
        stream.onAbort(() => subscription.close())
        await stream.writeSSE({ event: "ready", data: "{}", retry: 2000 })
        while (!stream.aborted && !stream.closed) {
          const event = await subscription.next(heartbeatMs)
          if (event === "closed") break
          if (event === "timeout") await stream.write(": keep-alive\n\n")
          else await stream.writeSSE({ id: event.id, event: "dashboard", data: event.data })
        }
        subscription.close()
      }, async () => subscription.close())
    })))
}
