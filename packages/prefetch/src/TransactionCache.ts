// The prefetched transactions of one account in Redis, under the customer's hash tag:
//   {c:<customer>}:txmeta:<system>:<id>  hash: state (loading | ready), from, last (the window's
//                                         first and last entry numbers), currency, exponent
//   {c:<customer>}:txns:<system>:<id>    sorted set: score the entry number, member the compact
//                                         entry (Transactions.ts)
// Why a sorted set rather than a JSON document: a page is one ZRANGE BYSCORE from a cursor,
// a new entry is one ZADD, and a few hundred entries stay a compact listpack.
//
// Freshness, the rule every script keeps: a ready window holds every entry numbered from..last,
// nothing else, and CDC appends each new entry as it arrives. A load marks the window
// "loading" BEFORE its database snapshot, and CDC buffers entries into a loading window; an
// entry committed after the snapshot is therefore delivered after the mark and buffered, and
// one committed before is in the snapshot. Entries arrive per account in entry order (commit
// order on a per-customer stream key), so a gap means something was missed: the window is
// dropped and readers fall back to PostgreSQL.
import { Keys, Lua } from "@bank/platform"
import { Effect } from "effect"
import { Redis, script } from "effect/persistence/Redis"
import type { Compact } from "./Transactions.ts"

const source = Lua.loader(new URL("./lua/", import.meta.url))

const beginLoadScript = script(
  (keys: readonly [string, string], token: string, leaseMs: number) => [...keys, token, String(leaseMs)],
  { lua: source("beginLoad"), numberOfKeys: 2 }
).withReturnType<number>()

const finishLoadScript = script(
  (keys: readonly [string, string], token: string, window: LoadedWindow, ttlMs: number, loadedAt: number) => [
    ...keys,
    token,
    String(window.from),
    String(window.last),
    window.currency,
    String(window.exponent),
    String(ttlMs),
    String(loadedAt),
    ...window.entries.flatMap((entry) => [String(entry[1]), JSON.stringify(entry)])
  ],
  { lua: source("finishLoad"), numberOfKeys: 2 }
).withReturnType<number>()

const applyEntryScript = script(
  (keys: readonly [string, string], op: "insert" | "invalidate", entryNo: string, member: string) => [
    ...keys,
    op,
    entryNo,
    member
  ],
  { lua: source("applyEntry"), numberOfKeys: 2 }
).withReturnType<"absent" | "buffered" | "present" | "appended" | "invalidated">()

/** page.lua's text: the edge runs it through a tracked client-side cache too (TransactionPages.ts). */
export const pageLua = source("page")

/** page.lua's arguments: entries numbered below `before` (undefined: the newest), `limit` of them. */
export const pageArgs = (before: number | undefined, limit: number): readonly [string, string] => [
  before === undefined ? "" : String(before),
  String(limit)
]

const pageScript = script((keys: readonly [string, string], args: readonly [string, string]) => [...keys, ...args], {
  lua: pageLua,
  numberOfKeys: 2
}).withReturnType<ReadonlyArray<string> | null>()

/** The window's keys; `account` is the canonical `<system>:<id>`. */
export const keys = (customerId: string, account: string): readonly [string, string] => {
  const customer = Keys.customer(customerId)
  return [customer.key(`txmeta:${account}`), customer.key(`txns:${account}`)]
}

export const beginLoad = (customerId: string, account: string, token: string, leaseMs: number) =>
  Redis.use((redis) => redis.eval(beginLoadScript)(keys(customerId, account), token, leaseMs))

export interface LoadedWindow {
  readonly from: number
  readonly last: number
  readonly currency: string
  readonly exponent: number
  readonly entries: ReadonlyArray<Compact>
}

/** Completes a load; false when it was superseded (another load, or CDC found a gap). */
export const finishLoad = (customerId: string, account: string, token: string, window: LoadedWindow, ttlMs: number) =>
  Redis.use((redis) =>
    redis
      .eval(finishLoadScript)(keys(customerId, account), token, window, ttlMs, Date.now())
      .pipe(Effect.map((last) => Number(last) >= 0))
  )

/** Applies an entry CDC delivered (or drops the window); see applyEntry.lua. */
export const apply = (customerId: string, account: string, change: { readonly entry: Compact } | "invalidate") =>
  Redis.use((redis) =>
    change === "invalidate"
      ? redis.eval(applyEntryScript)(keys(customerId, account), "invalidate", "0", "")
      : redis.eval(applyEntryScript)(
          keys(customerId, account),
          "insert",
          String(change.entry[1]),
          JSON.stringify(change.entry)
        )
  )

export interface CachedPage {
  readonly currency: string
  readonly exponent: number
  readonly entries: ReadonlyArray<Compact>
}

/** page.lua's reply as a page, or undefined when the window cannot answer it. */
export const decodePage = (reply: unknown): CachedPage | undefined => {
  if (!Array.isArray(reply) || reply.length < 2) return undefined
  const [currency, exponent, ...members] = reply as ReadonlyArray<string>
  return {
    currency: String(currency),
    exponent: Number(exponent),
    entries: members.map((m) => JSON.parse(String(m)) as Compact)
  }
}

/** The page of entries numbered below `before` (undefined: the newest), if the window can answer it. */
export const page = (customerId: string, account: string, before: number | undefined, limit: number) =>
  Redis.use((redis) =>
    redis.eval(pageScript)(keys(customerId, account), pageArgs(before, limit)).pipe(Effect.map(decodePage))
  )
