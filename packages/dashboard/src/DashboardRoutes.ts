// The dashboard HTTP API (behind the edge's token check; the customer is always the caller):
//   GET /v1/dashboard         → 200 the caller's dashboard document, as stored (no re-encoding),
//                               with `asOf`; an empty dashboard while the caller has no product.
//                               With a transfer's Consistency-Token: once it shows the transfer
//                               (bounded wait, else 503 with Retry-After)
//   GET /v1/dashboard/events  → Server-Sent Events: `event: dashboard`, `data:` the whole
//                               document, `id:` the `dashboard.changes` entry id; reconnecting
//                               with Last-Event-ID resumes (DashboardFeed.ts; an id Redis would
//                               refuse is a 400); a comment line every 15 s (heartbeatMs) keeps
//                               idle proxies from hanging up. The stream is bound to the caller's
//                               session and token (LiveSessions): when either ends, a last
//                               `event: end` with `{"reason": ...}` and the stream closes. HEAD
//                               answers the headers and opens nothing.
// No route takes a customer id: another customer's dashboard cannot even be named. The document
// is read from the generation readers use now (ReadModel), resolved once per request, through
// the client-side cache of DashboardDocuments.ts (invalidated by Redis and by the live feed; a
// hit is answered without an Effect run); a read with a Consistency-Token reads Redis itself.
import { type Principal, Payments } from "@bank/contracts"
import type { Routes } from "@bank/http"
import type { ProblemTag } from "./Problems.ts"
import { ConsistencyToken, LiveSessions, plainResponse, principalOf } from "@bank/http"
import { DocumentStore, ReadModel } from "@bank/platform"
import { Effect, Option, Schema } from "effect"
import type { Context } from "hono"
import { streamSSE } from "hono/streaming"
import * as Dashboard from "./Dashboard.ts"
import { DashboardDocuments } from "./DashboardDocuments.ts"
import { DashboardFeed, isEntryId } from "./DashboardFeed.ts"
import { InvalidLastEventId } from "./Errors.ts"
import { readModel } from "./DashboardProjector.ts"

export type Services =
  | DocumentStore.DocumentStore
  | DashboardFeed
  | DashboardDocuments
  | ReadModel.ReadModel
  | LiveSessions

/** The caller, as the edge's token check put it on the request (a route not behind it is a bug: 500). */
export const callerOf = (c: Context<any>): Effect.Effect<Principal> => Effect.sync(() => principalOf(c))

export interface RouteOptions {
  /** Comment lines on an idle event stream, in ms (default 15 s). */
  readonly heartbeatMs?: number
  /** The longest a read with a Consistency-Token waits for the write (default 10 s). */
  readonly consistencyWaitMs?: number
}

/**
 * The dashboard's text once it shows the transfer a Consistency-Token names (docs/api.md):
 * decided, and if booked, the from-account's lastEntryNo has reached the debit's entry. None
 * while it does not; the caller's own transfer keys only, so another customer's id shows nothing.
 */
const showsTransfer = (
  store: DocumentStore.DocumentStore["Service"],
  key: string,
  customerId: string,
  claim: ConsistencyToken.Claim
) =>
  Effect.gen(function* () {
    const { transferId } = yield* ConsistencyToken.fields(claim, Payments.TransferClaim)
    const status = yield* store.getRaw(Payments.transferStatusKey(customerId, transferId))
    if (Option.isNone(status)) return Option.none<string>()
    const outcome = Schema.decodeUnknownOption(Payments.TransferOutcome)(JSON.parse(status.value))
    if (Option.isNone(outcome) || outcome.value.status === "pending") return Option.none<string>()
    const raw = yield* store.getRaw(key)
    const { debitEntryNo, fromAccountId } = outcome.value
    if (outcome.value.status === "rejected" || debitEntryNo === undefined)
      return Option.some(Option.getOrElse(raw, () => JSON.stringify(Dashboard.empty(customerId))))
    if (Option.isNone(raw)) return Option.none<string>()
    const document = JSON.parse(raw.value) as Dashboard.DashboardDocument
    const account = document.accounts.find((a) => a.id === fromAccountId)
    return typeof account?.lastEntryNo === "number" && account.lastEntryNo >= debitEntryNo ? raw : Option.none<string>()
  })

const documentHeaders = { "Content-Type": "application/json", "Cache-Control": "private, no-store" }

export const dashboardRoutes =
  (options: RouteOptions = {}): Routes<Services, ProblemTag> =>
  (app, run) => {
    const heartbeatMs = options.heartbeatMs ?? 15_000
    const consistencyWaitMs = options.consistencyWaitMs ?? ConsistencyToken.defaultWaitMs

    let documents: DashboardDocuments["Service"] | undefined
    app.get("/v1/dashboard", (c) => {
      // A cached document is sent without an Effect run (no I/O, nothing to fail; no span, so
      // only while tracing is off: Run.ts).
      if (!run.traced && c.req.header(ConsistencyToken.header) === undefined) {
        documents ??= run.service(DashboardDocuments)
        const text = documents.peek(principalOf(c).customerId)
        if (text !== undefined) return plainResponse(text, documentHeaders)
      }
      return run(
        c,
        Effect.gen(function* () {
          const { customerId } = principalOf(c)
          // Read-your-writes costs nothing when the header is absent: the (cached) stored text as it is.
          if (c.req.header(ConsistencyToken.header) === undefined) {
            const text = yield* DashboardDocuments.use((documents) => documents.text(customerId))
            return plainResponse(text, documentHeaders)
          }
          const store = yield* DocumentStore.DocumentStore
          const key = yield* ReadModel.ReadModel.use((r) => r.documentKey(readModel, customerId))
          const claim = yield* ConsistencyToken.fromRequest(c)
          const raw =
            Option.isSome(claim) && claim.value.k === Payments.transferClaimKind
              ? Option.some(
                  yield* ConsistencyToken.waitFor(c, showsTransfer(store, key, customerId, claim.value), {
                    timeoutMs: consistencyWaitMs
                  })
                )
              : yield* store.getRaw(key)
          const body = Option.getOrElse(raw, () => JSON.stringify(Dashboard.empty(customerId)))
          return plainResponse(body, documentHeaders)
        })
      )
    })

    app.get("/v1/dashboard/events", (c) =>
      run(
        c,
        Effect.gen(function* () {
          const principal = yield* callerOf(c)
          const lastEventId = c.req.header("Last-Event-ID")
          if (lastEventId !== undefined && !isEntryId(lastEventId)) return yield* new InvalidLastEventId()
          c.header("Cache-Control", "private, no-store")
          // Hono answers HEAD by running this GET handler and dropping the body without cancelling
          // it: a subscription opened here would never be closed.
          if (c.req.method === "HEAD") return c.body(null, 200, { "Content-Type": "text/event-stream" })
          const live = yield* LiveSessions.use((s) => s.watch(principal, c.req.header("Authorization")))
          const feed = yield* DashboardFeed
          const subscription = yield* feed
            .subscribe(principal.customerId, lastEventId)
            .pipe(Effect.onError(() => Effect.sync(live.release)))
          let endReason: string | undefined
          void live.ended.then((reason) => {
            endReason = reason
            subscription.close()
          })
          const close = () => {
            subscription.close()
            live.release()
          }
          // Proxies such as nginx buffer responses unless told not to.
          c.header("X-Accel-Buffering", "no")
          return streamSSE(
            c,
            async (stream) => {
              stream.onAbort(close)
              await stream.writeSSE({ event: "ready", data: "{}", retry: 2000 })
              while (!stream.aborted && !stream.closed) {
                const event = await subscription.next(heartbeatMs)
                if (event === "closed") break
                if (event === "timeout") await stream.write(": keep-alive\n\n")
                else await stream.writeSSE({ id: event.id, event: "dashboard", data: event.data })
              }
              if (endReason !== undefined && !stream.aborted)
                await stream.writeSSE({ event: "end", data: JSON.stringify({ reason: endReason }) })
              close()
            },
            async () => close()
          )
        })
      )
    )
  }
