// The payments HTTP API (behind the edge's token check; errors problem+json):
//   POST /v1/transfers       {fromAccountId, toAccountId, amount: {amount, currency}, reference}
//                            with `Idempotency-Key` → 202 {transferId, status, ...} and a
//                            Consistency-Token for reading the dashboard once it shows it
//   GET  /v1/transfers/{id}  → 200 the transfer's status (pending, booked, rejected + reason)
// The edge only validates and puts a BookTransfer command on `payments.commands`; the payments
// actor decides. The same key with the same body is a resend: it answers with the same
// transfer (and sends the command again if it is still undecided after a few seconds, in case
// the first one was lost); the same key with another body is refused (422). Keys are
// remembered for TransferStatus.RETENTION_SECONDS; beyond that the actor still books at most
// once per key, and a different body under an old key is ignored (see PaymentsActor.ts).
import { ConsistencyToken, decodeBody, principalOf, StepUp } from "@bank/http"
import { Payments } from "@bank/contracts"
import type { Routes } from "@bank/http"
import type { ProblemTag } from "./Problems.ts"
import { Database, DocumentStore, StreamLog } from "@bank/platform"
import { Effect, Option } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as Currencies from "./Currencies.ts"
import { IdempotencyKeyReused, TransferNotFound } from "./Errors.ts"
import * as TransferBooking from "./TransferBooking.ts"
import * as TransferRequest from "./TransferRequest.ts"
import * as TransferStatus from "./TransferStatus.ts"

export type Services =
  | Redis
  | StreamLog.StreamLog
  | DocumentStore.DocumentStore
  | Database.Database
  | StepUp.StepUpPolicy

/** A resend finding its transfer still undecided after this long sends the command again. */
const RESEND_AFTER_MS = 5_000

const parseRecord = (text: string | null): TransferStatus.RequestRecord | undefined => {
  if (text === null) return undefined
  try {
    return JSON.parse(text) as TransferStatus.RequestRecord
  } catch {
    return undefined
  }
}

const json = (text: string, status: 200 | 202, headers: Record<string, string> = {}) =>
  new Response(text, {
    status,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers }
  })

export const paymentsRoutes: Routes<Services, ProblemTag> = (app, run) => {
  app.post("/v1/transfers", (c) =>
    run(
      c,
      Effect.gen(function* () {
        const principal = principalOf(c)
        const { customerId } = principal
        const idempotencyKey = yield* TransferRequest.idempotencyKey(c.req.header("Idempotency-Key"))
        const exponents = yield* Currencies.exponents
        const request = TransferRequest.toRequest(yield* decodeBody(c, TransferRequest.body(exponents)), exponents)
        // Above the low-value limit, money leaving for an account that is not the customer's own
        // needs a recent authentication (PSD2 RTS art. 15 exempts own accounts, art. 16 low values).
        const policy = yield* StepUp.StepUpPolicy
        if (request.amount > StepUp.thresholdMinor(policy.transferThreshold, exponents.get(request.currency) ?? 2)) {
          const db = yield* Database.Database
          const owner = yield* db.query<{ owner: string }>(
            "SELECT customer_id::text AS owner FROM deposits.accounts WHERE account_id = $1",
            [request.toAccountId]
          )
          if (owner[0]?.owner !== customerId) yield* StepUp.requireRecent(principal, "transfer")
        }
        const transferId = TransferRequest.transferId(customerId, idempotencyKey)
        const requestHash = TransferRequest.requestHash(request)
        const keys = TransferStatus.keys(customerId, transferId)
        const redis = yield* Redis
        const log = yield* StreamLog.StreamLog
        const store = yield* DocumentStore.DocumentStore

        const now = new Date()
        const send = log.publish(Payments.commands, {
          key: customerId,
          payload: {
            _tag: "BookTransfer",
            transferId,
            customerId,
            idempotencyKey,
            requestHash,
            fromAccountId: request.fromAccountId,
            toAccountId: request.toAccountId,
            amount: request.amount.toString(),
            currency: request.currency,
            reference: request.reference,
            requestedAt: now.toISOString()
          }
        })
        const record: TransferStatus.RequestRecord = {
          h: requestHash,
          at: now.getTime(),
          view: TransferStatus.pendingView(transferId, request, exponents, now.toISOString())
        }
        // Read-your-writes: GET /v1/dashboard with this token shows the transfer once booked.
        const token = ConsistencyToken.encode({ k: Payments.transferClaimKind, transferId })
        const accepted = (view: TransferStatus.TransferView | string) =>
          json(typeof view === "string" ? view : JSON.stringify(view), 202, {
            Location: `/v1/transfers/${transferId}`,
            [ConsistencyToken.header]: token
          })

        const created = yield* redis.send<string | null>(
          "SET",
          keys.request,
          JSON.stringify(record),
          "NX",
          "EX",
          String(TransferStatus.RETENTION_SECONDS)
        )
        if (created !== null) {
          // Without the command the record would only say "pending" forever: forget it, so the
          // client's retry starts afresh.
          yield* send.pipe(Effect.tapError(() => redis.send("DEL", keys.request).pipe(Effect.ignore)))
          return accepted(record.view)
        }
        const earlier = parseRecord(yield* redis.send<string | null>("GET", keys.request))
        if (earlier !== undefined && earlier.h !== requestHash) return yield* new IdempotencyKeyReused({ transferId })
        const decided = yield* store.getRaw(keys.status)
        if (Option.isSome(decided)) return accepted(decided.value)
        if (earlier === undefined || now.getTime() - earlier.at > RESEND_AFTER_MS) yield* send
        return accepted(earlier?.view ?? record.view)
      })
    )
  )

  app.get("/v1/transfers/:id", (c) =>
    run(
      c,
      Effect.gen(function* () {
        const { customerId } = principalOf(c)
        const transferId = c.req.param("id")
        if (!TransferRequest.isTransferId(transferId))
          return yield* new TransferNotFound({ transferId: transferId.slice(0, 64) })
        const keys = TransferStatus.keys(customerId, transferId)
        const store = yield* DocumentStore.DocumentStore
        const decided = yield* store.getRaw(keys.status)
        if (Option.isSome(decided)) return json(decided.value, 200)
        const redis = yield* Redis
        const pending = parseRecord(yield* redis.send<string | null>("GET", keys.request))
        if (pending !== undefined) return json(JSON.stringify(pending.view), 200)
        // Both expired from Redis: PostgreSQL has every transfer ever decided.
        const db = yield* Database.Database
        const stored = yield* TransferBooking.find(db, customerId, transferId)
        if (stored === undefined) return yield* new TransferNotFound({ transferId })
        return json(JSON.stringify(TransferStatus.decidedView(stored, yield* Currencies.exponents)), 200)
      })
    )
  )
}
