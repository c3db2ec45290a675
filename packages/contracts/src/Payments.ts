// Payments: what the edge asks the payments actor to do.
//
// - `payments.commands`: `BookTransfer`, put there by the edge once it validated a
//   `POST /v1/transfers`. The envelope key is the customer id, so one customer's transfers are
//   decided in the order they were sent. The command may arrive more than once (the edge sends
//   it again when the client retries before it was decided, and delivery is at least once); the
//   actor decides each (customerId, idempotencyKey) exactly once, in PostgreSQL.
// - Money is an integer count of the currency's minor unit, as a string of digits: never a float.
import { Schema } from "effect"
import { Keys, StreamSpec } from "@bank/platform"

const Digits = Schema.String.check(Schema.isPattern(/^[1-9][0-9]{0,18}$/))

export const BookTransfer = Schema.TaggedStruct("BookTransfer", {
  /** Derived from (customerId, idempotencyKey) by the edge: the same request always has the same id. */
  transferId: Schema.String.check(Schema.isPattern(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)),
  customerId: Digits,
  idempotencyKey: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(128)),
  /** SHA-256 (hex) of the request's content: tells a resend from a different request under the same key. */
  requestHash: Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/)),
  /** Deposit account ids (deposits.accounts). */
  fromAccountId: Digits,
  toAccountId: Digits,
  /** Minor units of `currency`, positive. */
  amount: Digits,
  currency: Schema.String.check(Schema.isPattern(/^[A-Z]{3}$/)),
  reference: Schema.String.check(Schema.isMaxLength(140)),
  /** When the edge accepted the request, ISO-8601. */
  requestedAt: Schema.String
})
export type BookTransfer = typeof BookTransfer.Type

export const PaymentsCommand = Schema.Union([BookTransfer])
export type PaymentsCommand = typeof PaymentsCommand.Type

export const commands = StreamSpec.define({
  name: "payments.commands",
  schema: PaymentsCommand,
  // A command is decided within seconds; a week covers any outage the actor could be down for.
  retention: { maxAgeMs: 7 * 24 * 3600 * 1000 }
})

/** Why a transfer was rejected; the actor stores it with the transfer. */
export const RejectionReason = Schema.Literals([
  /** The from-account does not exist or is not the customer's (the two read the same). */
  "FromAccountNotFound",
  "ToAccountNotFound",
  /** One of the accounts is blocked or closed. */
  "AccountNotOpen",
  /** The accounts' currencies differ from each other or from the transfer's. */
  "CurrencyMismatch",
  /** The from-account's available balance (overdraft included) does not cover the amount. */
  "InsufficientFunds"
])
export type RejectionReason = typeof RejectionReason.Type

/**
 * A transfer's read-your-writes claim (the Consistency-Token of `POST /v1/transfers`), shared
 * by payments, which issues it, and the dashboard, which waits for it. The dashboard reads the
 * transfer's status document (`transferStatusKey`): undecided → wait; rejected → nothing to
 * show; booked → the from-account must show `lastEntryNo` ≥ the document's `debitEntryNo`.
 */
export const TransferClaim = Schema.Struct({ k: Schema.Literal("transfer"), transferId: Schema.String })

export const transferClaimKind = "transfer"

/** Where the payments actor keeps a decided transfer's status document. */
export const transferStatusKey = (customerId: string, transferId: string): string =>
  Keys.customer(customerId).document(`transfer:${transferId}`)

/** The fields of the status document the dashboard's wait reads. */
export const TransferOutcome = Schema.Struct({
  status: Schema.Literals(["pending", "booked", "rejected"]),
  fromAccountId: Schema.String,
  debitEntryNo: Schema.optionalKey(Schema.Number)
})
