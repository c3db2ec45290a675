// Pages of an account's transactions, newest first: from the prefetched window in Redis when
// it can answer the page whole, otherwise from PostgreSQL (not prefetched, expired, or beyond
// the window). Either way the page is built by Transactions.view, so the two read the same;
// `source` says which served it.
import { Database } from "@bank/platform"
import { Effect } from "effect"
import * as AccountRef from "./AccountRef.ts"
import * as Cursor from "./Cursor.ts"
import { AccountNotFound } from "./Errors.ts"
import * as TransactionCache from "./TransactionCache.ts"
import * as Transactions from "./Transactions.ts"

export interface Page {
  readonly accountId: string
  readonly currency: string
  readonly transactions: ReadonlyArray<Transactions.TransactionView>
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  readonly nextCursor: string | null
}

export interface Served {
  readonly page: Page
  readonly source: "redis" | "postgres"
}

const fromDatabase = (customerId: string, ref: AccountRef.AccountRef, before: number | undefined, limit: number) =>
  Effect.gen(function* () {
    const db = yield* Database.Database
    const l = ref.ledger
    // The customer's own account only: another customer's reads exactly like a missing one.
    const [account] = yield* db.query<{ currency: string; exponent: number }>(
      `SELECT a.currency, c.minor_unit AS exponent FROM ${l.accounts} a JOIN ref.currencies c ON c.code = a.currency
        WHERE a.${l.id} = $1 AND a.customer_id = $2`,
      [ref.id, customerId]
    )
    if (!account) return yield* new AccountNotFound({ accountId: AccountRef.format(ref) })
    const rows = yield* db.query<Transactions.Row>(
      // `t.entry_no`: the bare name would sort by the text column of the same name.
      `SELECT ${Transactions.COLUMNS} FROM ${l.entries} t
        WHERE t.${l.id} = $1 AND t.entry_no < $2 ORDER BY t.entry_no DESC LIMIT $3`,
      [ref.id, before ?? Number.MAX_SAFE_INTEGER, limit]
    )
    const entries = rows.map(Transactions.compact)
    if (entries.some((e) => e === undefined))
      return yield* Effect.die(new Error(`unreadable ledger entry in ${l.entries}`))
    return {
      currency: account.currency,
      exponent: Number(account.exponent),
      entries: entries as ReadonlyArray<Transactions.Compact>
    }
  })

/** The page of `ref`'s entries numbered below `cursor`'s position (the newest without one). */
export const read = Effect.fn("TransactionPages.read")(function* (
  customerId: string,
  ref: AccountRef.AccountRef,
  before: number | undefined,
  limit: number
) {
  const account = AccountRef.format(ref)
  const cached = yield* TransactionCache.page(customerId, account, before, limit)
  const source = cached ? ("redis" as const) : ("postgres" as const)
  const { currency, exponent, entries } = cached ?? (yield* fromDatabase(customerId, ref, before, limit))
  const oldest = entries.at(-1)
  const page: Page = {
    accountId: account,
    currency,
    transactions: entries.map((e) => Transactions.view(e, currency, exponent)),
    nextCursor:
      entries.length === limit && oldest !== undefined && oldest[1] > 1
        ? Cursor.encode({ account, before: oldest[1] })
        : null
  }
  return { page, source } satisfies Served
})
