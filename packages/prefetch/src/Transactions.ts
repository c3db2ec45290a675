// One ledger entry in its three forms: the row (PostgreSQL's text output, whether read by our
// own query or carried by CDC), the compact form kept in Redis (a JSON array, one sorted-set
// member per entry, the account's currency kept once beside them), and the view the API
// returns. Both the Redis and the PostgreSQL path go through `compact` and `view`, so a page
// reads the same whichever served it.
import { minorToText, type MoneyView } from "@bank/records"

/** [transactionId, entryNo, amount, bookingDate, valueDate, bookedAt, description, counterparty, category, runningBalance] */
export type Compact = readonly [string, number, string, string, string, string, string, string | null, string, string]

export interface TransactionView {
  readonly transactionId: string
  /** The entry's number in the account's ledger: 1, 2, 3... */
  readonly entryNo: number
  /** Negative for a debit. */
  readonly amount: MoneyView
  readonly bookingDate: string
  readonly valueDate: string
  /** ISO-8601 UTC with microseconds. */
  readonly bookedAt: string
  readonly description: string
  readonly counterparty: string | null
  readonly category: string
  /** The account's balance after this entry. */
  readonly runningBalance: MoneyView
}

/** Our query's columns, named and formatted as CDC carries them (session time zone UTC). */
export const COLUMNS = `transaction_id::text AS transaction_id, entry_no::text AS entry_no, amount::text AS amount,
  to_char(booking_date, 'YYYY-MM-DD') AS booking_date, to_char(value_date, 'YYYY-MM-DD') AS value_date,
  to_char(booked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US"+00"') AS booked_at,
  description, counterparty, category, running_balance::text AS running_balance`

export type Row = Readonly<Record<string, string | null | undefined>>

const DIGITS = /^-?[0-9]+$/
const DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/

/** "2025-06-15 10:00:00.1234+00" (PostgreSQL, UTC) as "2025-06-15T10:00:00.123400Z"; undefined otherwise. */
export const isoMicros = (text: string): string | undefined => {
  const match =
    /^([0-9]{4}-[0-9]{2}-[0-9]{2})[ T]([0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,6}))?(?:\+00(?::00)?|Z)$/.exec(text)
  return match ? `${match[1]}T${match[2]}.${(match[3] ?? "").padEnd(6, "0")}Z` : undefined
}

/** The compact form of a row; undefined when the row lacks a column or has an unexpected format. */
export const compact = (row: Row): Compact | undefined => {
  const { transaction_id: id, entry_no: entryNo, amount, booking_date: bookingDate, value_date: valueDate } = row
  const { description, counterparty, category, running_balance: runningBalance } = row
  const bookedAt = row.booked_at ? isoMicros(row.booked_at) : undefined
  if (!id || !DIGITS.test(id) || !entryNo || !DIGITS.test(entryNo) || !amount || !DIGITS.test(amount)) return undefined
  if (!bookingDate || !DATE.test(bookingDate) || !valueDate || !DATE.test(valueDate) || bookedAt === undefined)
    return undefined
  if (description == null || category == null || !runningBalance || !DIGITS.test(runningBalance)) return undefined
  return [
    id,
    Number(entryNo),
    amount,
    bookingDate,
    valueDate,
    bookedAt,
    description,
    counterparty ?? null,
    category,
    runningBalance
  ]
}

export const view = (c: Compact, currency: string, exponent: number): TransactionView => ({
  transactionId: c[0],
  entryNo: c[1],
  amount: { amount: minorToText(BigInt(c[2]), exponent), currency },
  bookingDate: c[3],
  valueDate: c[4],
  bookedAt: c[5],
  description: c[6],
  counterparty: c[7],
  category: c[8],
  runningBalance: { amount: minorToText(BigInt(c[9]), exponent), currency }
})
