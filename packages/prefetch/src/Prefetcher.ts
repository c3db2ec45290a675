// What a login prefetches: each of the customer's accounts, in every product ledger, with the
// entries of the last `windowDays` days (at most `maxEntries`), into TransactionCache. The
// windows are marked loading first, then read in one REPEATABLE READ snapshot (consistent
// across accounts), then completed; TransactionCache.ts explains why nothing falls between.
import { Database, type Queryable } from "@bank/platform"
import { ledgers } from "@bank/records"
import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import * as AccountRef from "./AccountRef.ts"
import { PrefetchConfig } from "./PrefetchConfig.ts"
import * as TransactionCache from "./TransactionCache.ts"
import * as Transactions from "./Transactions.ts"

/** A load that takes longer than this is forgotten (its windows expire while loading). */
const LOAD_LEASE_MS = 60_000

interface Account {
  readonly system: string
  readonly id: string
  readonly currency: string
  readonly exponent: number
}

const accountsOf = (db: Queryable, customerId: string) =>
  db.query<{ system: string; id: string; currency: string; exponent: number }>(
    ledgers
      .map(
        (l) =>
          `SELECT '${l.system}' AS system, a.${l.id}::text AS id, a.currency, c.minor_unit AS exponent
         FROM ${l.accounts} a JOIN ref.currencies c ON c.code = a.currency WHERE a.customer_id = $1`
      )
      .join(" UNION ALL ") + " ORDER BY system, id",
    [customerId]
  )

const loadWindow = (tx: Queryable, account: Account, since: Date, maxEntries: number) =>
  Effect.gen(function* () {
    const l = AccountRef.ledgerOf(account.system)!
    const [bounds] = yield* tx.query<{ last: string; first: string | null }>(
      `SELECT a.last_entry_no::text AS last,
              (SELECT min(t.entry_no) FROM ${l.entries} t WHERE t.${l.id} = a.${l.id} AND t.booked_at >= $2)::text AS first
         FROM ${l.accounts} a WHERE a.${l.id} = $1`,
      [account.id, since]
    )
    if (!bounds) return undefined
    const last = Number(bounds.last)
    const from = Math.max(bounds.first === null ? last + 1 : Number(bounds.first), last - maxEntries + 1, 1)
    const rows = yield* tx.query<Transactions.Row>(
      // `t.entry_no`: the bare name would sort by the text column of the same name.
      `SELECT ${Transactions.COLUMNS} FROM ${l.entries} t WHERE t.${l.id} = $1 AND t.entry_no >= $2 ORDER BY t.entry_no`,
      [account.id, from]
    )
    const entries = rows.map(Transactions.compact)
    // The ledger rule says entries from..last are all there; a window that is not is not cached.
    if (entries.length !== last - from + 1 || entries.some((e, i) => e === undefined || e[1] !== from + i)) {
      yield* Effect.logWarning("account not prefetched: its entries do not follow the ledger rule", {
        account: `${account.system}:${account.id}`,
        from,
        last,
        entries: entries.length,
        unreadable: entries.filter((e) => e === undefined).length
      })
      return undefined
    }
    return {
      from,
      last,
      currency: account.currency,
      exponent: account.exponent,
      entries: entries as ReadonlyArray<Transactions.Compact>
    }
  })

/** Prefetches the customer's accounts; returns how many windows are now ready. */
export const prefetch = Effect.fn("Prefetcher.prefetch")(function* (customerId: string) {
  const db = yield* Database.Database
  const config = yield* PrefetchConfig
  const accounts: ReadonlyArray<Account> = (yield* accountsOf(db, customerId)).map((a) => ({
    ...a,
    exponent: Number(a.exponent)
  }))
  const token = randomBytes(12).toString("base64url")
  const name = (a: Account) => `${a.system}:${a.id}`
  // The accounts' scripts go out together (one write to Redis, not one round trip each).
  yield* Effect.forEach(accounts, (a) => TransactionCache.beginLoad(customerId, name(a), token, LOAD_LEASE_MS), {
    discard: true,
    concurrency: "unbounded"
  })
  const since = new Date(Date.now() - config.windowDays * 86_400_000)
  const windows = yield* db.transaction(
    (tx) => Effect.forEach(accounts, (a) => loadWindow(tx, a, since, config.maxEntries)),
    { isolation: "repeatable read" }
  )
  const finished = yield* Effect.forEach(
    windows,
    (window, i) =>
      window === undefined
        ? TransactionCache.apply(customerId, name(accounts[i]!), "invalidate").pipe(Effect.as(false))
        : TransactionCache.finishLoad(customerId, name(accounts[i]!), token, window, config.ttlMs),
    { concurrency: "unbounded" }
  )
  return finished.filter(Boolean).length
})
