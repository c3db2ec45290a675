// The payments actor: the `payments` consumer group on `payments.commands`. Each BookTransfer
// is decided and booked in PostgreSQL (TransferBooking.ts: exactly once per idempotency key,
// whatever the number of deliveries), then its status document is written for
// `GET /v1/transfers/{id}`. The document is written on every delivery, from the row PostgreSQL
// holds, so a crash between the commit and the write heals at the redelivery. The booked
// entries reach the dashboards the way every ledger change does: through CDC.
import { Payments } from "@bank/contracts"
import { Actor, DocumentStore } from "@bank/platform"
import type { Delivered } from "@bank/platform"
import { Effect } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as Currencies from "./Currencies.ts"
import * as TransferBooking from "./TransferBooking.ts"
import * as TransferStatus from "./TransferStatus.ts"

export const GROUP = "payments"

export const handle = Effect.fn("PaymentsActor.handle")(function* (message: Delivered<Payments.PaymentsCommand>) {
  const command = message.payload
  const { transfer, decidedNow } = yield* TransferBooking.book(command)
  if (transfer.transferId !== command.transferId || transfer.requestHash !== command.requestHash) {
    // The key was used before for another request (beyond the edge's idempotency window):
    // that earlier decision stands and this request is not booked.
    yield* Effect.logWarning("transfer command ignored: its idempotency key was used for another request", {
      transferId: command.transferId,
      decided: transfer.transferId
    })
    return
  }
  const exponents = yield* Currencies.exponents
  const store = yield* DocumentStore.DocumentStore
  const redis = yield* Redis
  const key = TransferStatus.keys(command.customerId, command.transferId).status
  yield* store.set(key, "$", { ...TransferStatus.decidedView(transfer, exponents) })
  yield* redis.send("EXPIRE", key, String(TransferStatus.RETENTION_SECONDS))
  if (decidedNow) {
    yield* Effect.logInfo("transfer decided", {
      transferId: transfer.transferId,
      status: transfer.status,
      reason: transfer.reason
    })
  }
})

/** The actor, running while the layer lives; needs Redis, DocumentStore and Database. */
export const layer = (
  options: Pick<
    Actor.ActorOptions<Payments.PaymentsCommand, never, never>,
    "claimIdleMs" | "consumer" | "concurrency"
  > = {}
) => Actor.layer({ group: GROUP, stream: Payments.commands, handle, ...options })
