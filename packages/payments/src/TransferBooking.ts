// Books a transfer in PostgreSQL, in one database transaction, exactly once per
// (customer, idempotency key):
//   1. a transfer already decided under this key is returned as it is (a resend or redelivery);
//   2. both deposit accounts are locked FOR UPDATE in account-id order, so two transfers between
//      the same accounts in opposite directions wait for each other instead of deadlocking;
//   3. the decision: the from-account must exist and be the customer's, the to-account must
//      exist, both open, both in the transfer's currency, and the from-account's available
//      balance (overdraft included) must cover the amount; another customer's account that
//      cannot take the transfer is "not found" whatever the reason (no oracle on foreign ids);
//   4. the payments.transfers row is inserted; if a concurrent delivery of the same command
//      got there first (unique key), nothing is booked and that transfer is returned;
//   5. a booked transfer posts the debit and the credit (records' DepositPosting: the ledger rule),
//      each entry carrying this booking's traceparent, so CDC continues the customer's trace to
//      the dashboard (packages/cdc Translator.ts).
// Serialization failures and lost connections are retried here; the actor retries the rest.
import { Payments } from "@bank/contracts"
import { Database, type DatabaseError, type Queryable, Tracing } from "@bank/platform"
import { postDepositEntry } from "@bank/records"
import { Effect, Schedule } from "effect"

/** A decided transfer as stored in payments.transfers (numbers as text). */
export interface StoredTransfer {
  readonly transferId: string
  readonly customerId: string
  readonly requestHash: string
  readonly fromAccountId: string
  readonly toAccountId: string
  readonly amount: string
  readonly currency: string
  readonly reference: string
  readonly status: "booked" | "rejected"
  readonly reason: Payments.RejectionReason | null
  readonly requestedAt: string
  readonly decidedAt: string
  /** The booked debit's entry number in the from-account's ledger; null when rejected. */
  readonly debitEntryNo?: string | null
}

export interface Outcome {
  readonly transfer: StoredTransfer
  /** False when the transfer had been decided before (a resend or a redelivered command). */
  readonly decidedNow: boolean
}

const COLUMNS = `transfer_id::text AS "transferId", customer_id::text AS "customerId", request_hash AS "requestHash",
  from_account_id::text AS "fromAccountId", to_account_id::text AS "toAccountId", amount::text AS amount, currency,
  reference, status, reason, debit_entry_no::text AS "debitEntryNo",
  to_char(requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "requestedAt",
  to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "decidedAt"`

/** The customer's transfer with this id, if there is one. */
export const find = (db: Queryable, customerId: string, transferId: string) =>
  db
    .query<StoredTransfer>(`SELECT ${COLUMNS} FROM payments.transfers WHERE transfer_id = $1 AND customer_id = $2`, [
      transferId,
      customerId
    ])
    .pipe(Effect.map((rows) => rows[0]))

const byKey = (tx: Queryable, command: Payments.BookTransfer) =>
  tx
    .query<StoredTransfer>(
      `SELECT ${COLUMNS} FROM payments.transfers WHERE customer_id = $1 AND idempotency_key = $2`,
      [command.customerId, command.idempotencyKey]
    )
    .pipe(Effect.map((rows) => rows[0]))

interface Account {
  readonly account_id: string
  readonly customer_id: string
  readonly currency: string
  readonly balance: string
  readonly available_balance: string
  readonly last_entry_no: string
  readonly status: string
  readonly iban: string
}

const decide = (
  command: Payments.BookTransfer,
  from: Account | undefined,
  to: Account | undefined
): Payments.RejectionReason | undefined => {
  if (!from || from.customer_id !== command.customerId) return "FromAccountNotFound"
  // Another customer's account the transfer cannot go to (closed, blocked, another currency)
  // reads exactly like a missing one: the reason must not tell which ids exist and what they are.
  if (!to || (to.customer_id !== command.customerId && (to.status !== "open" || to.currency !== command.currency)))
    return "ToAccountNotFound"
  if (from.status !== "open" || to.status !== "open") return "AccountNotOpen"
  if (from.currency !== command.currency || to.currency !== command.currency) return "CurrencyMismatch"
  if (BigInt(from.available_balance) < BigInt(command.amount)) return "InsufficientFunds"
  return undefined
}

const decideAndBook = (
  tx: Queryable,
  command: Payments.BookTransfer,
  traceparent: string | undefined
): Effect.Effect<Outcome, DatabaseError> =>
  Effect.gen(function* () {
    const earlier = yield* byKey(tx, command)
    if (earlier) return { transfer: earlier, decidedNow: false }

    const accounts = yield* tx.query<Account>(
      `SELECT account_id::text, customer_id::text, currency, balance::text, available_balance::text, last_entry_no::text, status, iban
         FROM deposits.accounts WHERE account_id IN ($1, $2) ORDER BY account_id FOR UPDATE`,
      [command.fromAccountId, command.toAccountId]
    )
    const from = accounts.find((a) => a.account_id === command.fromAccountId)
    const to = accounts.find((a) => a.account_id === command.toAccountId)
    const reason = decide(command, from, to)
    const entries =
      reason === undefined
        ? [String(BigInt(from!.last_entry_no) + 1n), String(BigInt(to!.last_entry_no) + 1n)]
        : [null, null]

    const inserted = yield* tx.query<StoredTransfer>(
      `INSERT INTO payments.transfers (transfer_id, customer_id, idempotency_key, request_hash, from_account_id, to_account_id,
         amount, currency, reference, status, reason, debit_entry_no, credit_entry_no, requested_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
      [
        command.transferId,
        command.customerId,
        command.idempotencyKey,
        command.requestHash,
        command.fromAccountId,
        command.toAccountId,
        command.amount,
        command.currency,
        command.reference,
        reason === undefined ? "booked" : "rejected",
        reason ?? null,
        entries[0],
        entries[1],
        command.requestedAt
      ]
    )
    const transfer = inserted[0]
    if (!transfer) {
      // Another delivery of this command decided it while we waited for the locks.
      const winner = yield* byKey(tx, command)
      if (!winner)
        return yield* Effect.die(new Error(`transfer ${command.transferId} conflicts with a row that is not there`))
      return { transfer: winner, decidedNow: false }
    }
    if (reason === undefined) {
      const amount = BigInt(command.amount)
      const description = command.reference === "" ? "Transfer" : command.reference
      yield* postDepositEntry(tx, from!, {
        amount: -amount,
        description,
        counterparty: to!.iban,
        category: "transfer_out",
        traceparent
      })
      yield* postDepositEntry(tx, to!, {
        amount,
        description,
        counterparty: from!.iban,
        category: "transfer_in",
        traceparent
      })
    }
    return { transfer, decidedNow: true }
  })

/** Decides and books `command` (see the top of this file). */
export const book = Effect.fn("TransferBooking.book")(function* (command: Payments.BookTransfer) {
  const db = yield* Database.Database
  const trace = yield* Tracing.fromCurrentSpan
  return yield* db
    .transaction((tx) => decideAndBook(tx, command, trace?.traceparent))
    .pipe(Effect.retry({ schedule: Schedule.exponential("50 millis"), times: 8, while: (error) => error.retryable }))
})
