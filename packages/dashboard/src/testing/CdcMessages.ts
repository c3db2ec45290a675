// CDC-shaped messages for the dashboard's tests, as the connector writes them: rows of one
// database transaction followed by its TransactionCommitted, snapshot rows, positions that grow.
import type { Cdc } from "@bank/contracts"

const lsnText = (lsn: number) => `0/${lsn.toString(16).toUpperCase()}`
const commitTime = (lsn: number) =>
  new Date(Date.UTC(2025, 5, 15, 10, 0, 0) + lsn * 1000).toISOString().replace("Z", "000Z")

export interface TxRow {
  readonly schema: string
  readonly table: string
  readonly op: "insert" | "update" | "delete"
  readonly row: Cdc.Row
  readonly old?: Cdc.Row
}

const keyOf = (table: string, row: Cdc.Row): Cdc.Row => {
  const id =
    table === "cards"
      ? "card_id"
      : table === "loans"
        ? "loan_id"
        : table === "accounts"
          ? "account_id"
          : "transaction_id"
  return { [id]: row[id] ?? null }
}

/** One committed database transaction on one stream: its rows, then the commit. */
export const transaction = (lsn: number, xid: number, rows: ReadonlyArray<TxRow>): Array<Cdc.CdcMessage> => {
  const at = { commitLsn: lsnText(lsn), commitTime: commitTime(lsn), xid }
  return [
    ...rows.map(
      (r, seq): Cdc.RowChanged => ({
        _tag: "RowChanged",
        schema: r.schema,
        table: r.table,
        op: r.op,
        key: keyOf(r.table, r.row),
        ...(r.op === "delete" ? { old: r.row } : { new: r.row, ...(r.old ? { old: r.old } : {}) }),
        ...at,
        seq
      })
    ),
    { _tag: "TransactionCommitted", ...at, seq: rows.length, changes: rows.length, total: rows.length }
  ]
}

/** A snapshot of `rows` (each `{schema, table, row}`) taken at `lsn`. */
export const snapshot = (lsn: number, rows: ReadonlyArray<Omit<TxRow, "op">>): Array<Cdc.CdcMessage> => {
  const commitLsn = lsnText(lsn)
  const startedAt = commitTime(lsn)
  return [
    { _tag: "SnapshotStarted", commitLsn, seq: 0, startedAt },
    ...rows.map(
      (r, i): Cdc.RowChanged => ({
        _tag: "RowChanged",
        schema: r.schema,
        table: r.table,
        op: "snapshot",
        key: keyOf(r.table, r.row),
        new: r.row,
        commitLsn,
        seq: i + 1,
        commitTime: startedAt,
        xid: 0
      })
    ),
    {
      _tag: "SnapshotCompleted",
      commitLsn,
      seq: rows.length + 1,
      rows: rows.length,
      tables: [],
      completedAt: startedAt
    }
  ]
}

export const depositAccount = (customerId: string, accountId: string, balance: string, currency = "EUR"): Cdc.Row => ({
  account_id: accountId,
  customer_id: customerId,
  iban: `DE0000000000000000${accountId}`,
  product: "current",
  name: "Current account",
  currency,
  balance,
  available_balance: balance,
  overdraft_limit: "0",
  interest_rate: "0.0000",
  last_entry_no: "1",
  status: "open",
  opened_on: "2024-01-02"
})

export const depositEntry = (
  customerId: string,
  accountId: string,
  transactionId: string,
  amount: string,
  runningBalance: string,
  bookedAt: string
): Cdc.Row => ({
  transaction_id: transactionId,
  account_id: accountId,
  customer_id: customerId,
  entry_no: transactionId,
  amount,
  currency: "EUR",
  booking_date: bookedAt.slice(0, 10),
  value_date: bookedAt.slice(0, 10),
  booked_at: bookedAt,
  description: `Payment ${transactionId}`,
  counterparty: "Shop",
  category: "shopping",
  running_balance: runningBalance
})

export const card = (customerId: string, cardId: string, balance: string, creditLimit = "500000"): Cdc.Row => ({
  card_id: cardId,
  customer_id: customerId,
  product: "gold",
  network: "visa",
  pan_last4: "4242",
  expires_on: "2030-01-31",
  currency: "EUR",
  credit_limit: creditLimit,
  balance,
  available_credit: String(BigInt(creditLimit) - BigInt(balance)),
  interest_rate: "19.9900",
  statement_date: null,
  statement_balance: "0",
  minimum_payment: "0",
  payment_due_date: null,
  last_entry_no: "0",
  status: "active",
  opened_on: "2024-01-02"
})
