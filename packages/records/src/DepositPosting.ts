// Booking one entry on a deposit account, the ledger rule of migrations/004_deposits.sql in one
// place: the entry takes the next number and its running balance, and the account's balance,
// available balance and last entry number move with it. The simulator and the payments actor
// both book through it, so there is one way to write a deposits ledger entry.
import type { DatabaseError, Queryable } from "@bank/platform"
import { Effect } from "effect"

/** The account as read in this transaction with `SELECT ... FOR UPDATE` (values as text). */
export interface LockedDepositAccount {
  readonly account_id: string
  readonly customer_id: string
  readonly currency: string
  readonly balance: string
  readonly last_entry_no: string
}

export interface DepositEntry {
  /** Minor units, signed from the account's point of view: credit > 0, debit < 0. */
  readonly amount: bigint
  readonly description: string
  readonly counterparty: string | null
  readonly category: string
  /** The booking's trace (W3C traceparent): CDC carries it on as the change's trace context (migration 011). */
  readonly traceparent?: string | undefined
}

/**
 * Books `entry` now (UTC dates) on `account`, which the caller locked FOR UPDATE in the same
 * transaction; returns the account as it is afterwards, so a second entry can follow. Whether
 * the account may take the amount is the caller's decision (the table's checks are the backstop).
 */
export const postDepositEntry = (
  tx: Queryable,
  account: LockedDepositAccount,
  entry: DepositEntry
): Effect.Effect<LockedDepositAccount & { readonly entryNo: bigint }, DatabaseError> =>
  Effect.gen(function* () {
    const balance = BigInt(account.balance) + entry.amount
    const entryNo = BigInt(account.last_entry_no) + 1n
    yield* tx.query(
      `INSERT INTO deposits.transactions (account_id, customer_id, entry_no, amount, currency, description, counterparty, category,
         running_balance, booking_date, value_date, booked_at, traceparent)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, (now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date, now(), $10)`,
      [
        account.account_id,
        account.customer_id,
        String(entryNo),
        String(entry.amount),
        account.currency,
        entry.description,
        entry.counterparty,
        entry.category,
        String(balance),
        entry.traceparent ?? null
      ]
    )
    yield* tx.query(
      `UPDATE deposits.accounts SET balance = $2, available_balance = available_balance + $3, last_entry_no = $4 WHERE account_id = $1`,
      [account.account_id, String(balance), String(entry.amount), String(entryNo)]
    )
    return { ...account, balance: String(balance), last_entry_no: String(entryNo), entryNo }
  })
