// Pages of an account's transactions, newest first: from the prefetched window in Redis when
// it can answer the page whole, otherwise from PostgreSQL (not prefetched, expired, or beyond
// the window). Either way the page is built by Transactions.view, so the two read the same;
// `source` says which served it.
import { Database, RedisTopology } from "@bank/platform"
import { Config, Context, Effect, Layer } from "effect"
import { Redis, type RedisError } from "effect/persistence/Redis"
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
  /** The page as JSON (a Page). */
  readonly body: string
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

/** The page of `account`'s entries `window` holds, as the API returns it. */
const pageOf = (account: string, limit: number, window: TransactionCache.CachedPage): Page => {
  const { currency, exponent, entries } = window
  const oldest = entries.at(-1)
  return {
    accountId: account,
    currency,
    transactions: entries.map((e) => Transactions.view(e, currency, exponent)),
    nextCursor:
      entries.length === limit && oldest !== undefined && oldest[1] > 1
        ? Cursor.encode({ account, before: oldest[1] })
        : null
  }
}

/**
 * Pages answered from the prefetched windows: the body of the page, or null when the window
 * cannot answer it (read PostgreSQL). The edge's reads page.lua's replies, rendered, through a
 * tracked client-side cache (RedisTopology `cachedScript`): Redis tracks the window's two keys
 * as the script reads them, so CDC appending an entry, a new load or the window's expiry drops
 * every cached page of that account at once. Without the cache (TRANSACTION_PAGE_CACHE=false,
 * or on a cluster, where `cachedScript` does not cache) every read runs the script.
 */
export class PageCache extends Context.Service<
  PageCache,
  {
    readonly read: (
      customerId: string,
      account: string,
      before: number | undefined,
      limit: number
    ) => Effect.Effect<string | null, RedisError>
    /** The same synchronously when it is cached (no Effect, no round trip); undefined means "read it". */
    readonly peek: (
      customerId: string,
      account: string,
      before: number | undefined,
      limit: number
    ) => string | null | undefined
  }
>()("@bank/prefetch/TransactionPageCache") {}

/** The page's JSON body, or null when the window cannot answer it. */
const bodyOf = (account: string, limit: number, window: TransactionCache.CachedPage | undefined): string | null =>
  window === undefined ? null : JSON.stringify(pageOf(account, limit, window))

export interface PageCacheOptions {
  readonly cache: boolean
  /** Pages kept at most (default 20,000). */
  readonly maxEntries?: number
  /** Longest a page stays cached should an invalidation ever be lost (default 60 s). */
  readonly ttlMs?: number
}

export const makePageCache = (options: PageCacheOptions) =>
  Effect.gen(function* () {
    if (!options.cache) {
      const redis = yield* Redis
      return PageCache.of({
        peek: () => undefined,
        read: (customerId, account, before, limit) =>
          TransactionCache.page(customerId, account, before, limit).pipe(
            Effect.map((window) => bodyOf(account, limit, window)),
            Effect.provideService(Redis, redis)
          )
      })
    }
    const topology = yield* RedisTopology.RedisTopology
    const pages = yield* topology.cachedScript<string | null>(TransactionCache.pageLua, {
      maxEntries: options.maxEntries ?? 20_000,
      ttlMs: options.ttlMs ?? 60_000
    })
    // Customer ids and canonical account names hold no newline.
    const idOf = (customerId: string, account: string, before: number | undefined, limit: number) =>
      `${customerId}\n${account}\n${before ?? ""}\n${limit}`
    return PageCache.of({
      peek: (customerId, account, before, limit) => pages.peek(idOf(customerId, account, before, limit)),
      read: (customerId, account, before, limit) =>
        pages.read(
          idOf(customerId, account, before, limit),
          TransactionCache.keys(customerId, account),
          TransactionCache.pageArgs(before, limit),
          (reply) => bodyOf(account, limit, TransactionCache.decodePage(reply))
        )
    })
  })

/** TRANSACTION_PAGE_CACHE (default true). Needs Redis and RedisTopology. */
export const pageCacheLayerConfig = Layer.unwrap(
  Effect.map(Config.Boolean("TRANSACTION_PAGE_CACHE").pipe(Config.withDefault(true)), (cache) =>
    Layer.effect(PageCache, makePageCache({ cache }))
  )
)

/** The page of `account`'s entries numbered below `before` (the newest without it), as its JSON body. */
export const read = Effect.fn("TransactionPages.read")(function* (
  customerId: string,
  ref: AccountRef.AccountRef,
  before: number | undefined,
  limit: number
) {
  const account = AccountRef.format(ref)
  const cached = yield* PageCache.use((pages) => pages.read(customerId, account, before, limit))
  if (cached !== null) return { body: cached, source: "redis" } satisfies Served
  const window = yield* fromDatabase(customerId, ref, before, limit)
  return { body: bodyOf(account, limit, window)!, source: "postgres" } satisfies Served
})
