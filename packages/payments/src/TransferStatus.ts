// A transfer's status as `GET /v1/transfers/{id}` shows it, and where it lives:
// - `{c:<customer>}:transfer-request:<id>`: the edge's record of an accepted request (request
//   hash, when, and the pending view), set once with SET NX, kept for the idempotency window;
// - `{c:<customer>}:doc:transfer:<id>`: the status document the payments actor writes after
//   PostgreSQL decided (booked or rejected), kept as long;
// - payments.transfers in PostgreSQL: the truth, read when both expired.
// Both keys are in the customer's hash tag and read with the caller's own customer id, so one
// customer can never see another's transfer.
import { Keys } from "@bank/platform"
import { minorToText } from "@bank/records"
import { Payments } from "@bank/contracts"
import { AccountId, DateTime, Money } from "@bank/http"
import { Schema } from "effect"
import type { StoredTransfer } from "./TransferBooking.ts"
import type { Exponents, TransferRequest } from "./TransferRequest.ts"

/** How long a request and its status are remembered in Redis: the idempotency window. */
export const RETENTION_SECONDS = 7 * 24 * 3600

export const keys = (customerId: string, transferId: string) => ({
  request: Keys.customer(customerId).key(`transfer-request:${transferId}`),
  status: Payments.transferStatusKey(customerId, transferId)
})

/** A transfer as `POST /v1/transfers` and `GET /v1/transfers/{id}` show it (and the OpenAPI document). */
export const TransferView = Schema.Struct({
  transferId: Schema.String.annotate({ description: "The transfer's id (a UUID derived from your Idempotency-Key)." }),
  status: Schema.Literals(["pending", "booked", "rejected"]),
  reason: Schema.optionalKey(Payments.RejectionReason),
  /** For people: why it was rejected. */
  detail: Schema.optionalKey(Schema.String.annotate({ description: "For people: why it was rejected." })),
  fromAccountId: AccountId,
  toAccountId: AccountId,
  amount: Money,
  reference: Schema.String,
  requestedAt: DateTime,
  decidedAt: Schema.optionalKey(DateTime),
  debitEntryNo: Schema.optionalKey(
    Schema.Int.annotate({
      description:
        "A booked transfer's entry number in the from-account's ledger: the entryNo of its transactions page, and what the dashboard account's lastEntryNo reaches once it shows the transfer."
    })
  )
}).annotate({ identifier: "Transfer" })
export type TransferView = typeof TransferView.Type

const accountId = (depositId: string) => `deposits:${depositId}`

const details: Record<Payments.RejectionReason, string> = {
  FromAccountNotFound: "The account to pay from does not exist or is not yours.",
  ToAccountNotFound: "The account to pay to does not exist.",
  AccountNotOpen: "One of the accounts is blocked or closed.",
  CurrencyMismatch: "The transfer's currency differs from the currency of one of the accounts.",
  InsufficientFunds: "The available balance of the account to pay from does not cover the amount."
}

export const pendingView = (
  transferId: string,
  request: TransferRequest,
  exponents: Exponents,
  requestedAt: string
): TransferView => ({
  transferId,
  status: "pending",
  fromAccountId: accountId(request.fromAccountId),
  toAccountId: accountId(request.toAccountId),
  amount: { amount: minorToText(request.amount, exponents.get(request.currency) ?? 2), currency: request.currency },
  reference: request.reference,
  requestedAt
})

export const decidedView = (t: StoredTransfer, exponents: Exponents): TransferView => ({
  transferId: t.transferId,
  status: t.status,
  ...(t.reason ? { reason: t.reason, detail: details[t.reason] } : {}),
  fromAccountId: accountId(t.fromAccountId),
  toAccountId: accountId(t.toAccountId),
  amount: { amount: minorToText(BigInt(t.amount), exponents.get(t.currency) ?? 2), currency: t.currency },
  reference: t.reference,
  requestedAt: t.requestedAt,
  decidedAt: t.decidedAt,
  ...(t.debitEntryNo !== null && t.debitEntryNo !== undefined ? { debitEntryNo: Number(t.debitEntryNo) } : {})
})

/** The edge's record of an accepted request (the value of the `request` key). */
export interface RequestRecord {
  /** The request hash. */
  readonly h: string
  /** When it was accepted (epoch ms). */
  readonly at: number
  readonly view: TransferView
}
