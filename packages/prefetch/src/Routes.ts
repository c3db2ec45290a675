// The prefetch HTTP API (behind the edge's token check, like every /v1 route; errors
// problem+json). `X-Data-Source: redis | postgres` says which one answered.
//   GET /v1/accounts/{id}/transactions?cursor=&limit=   one page of the account's entries, newest
//       first: {accountId, currency, transactions, nextCursor}. `id` is `<system>:<id>`
//       (deposits, cards, lending, investments) or a deposit account's bare id; `limit` 1-100
//       (default 20); `cursor` is the previous page's nextCursor. Another customer's account is 404.
//   GET /v1/reference/products         the product catalogue
//   GET /v1/reference/exchange-rates   exchange rates, exact decimal strings
// Reference data is not personal, but it is only served to logged-in customers: every /v1 route
// is, which keeps one rule at the edge and keeps anonymous scrapers off the API.
import { plainResponse, principalOf } from "@bank/http"
import type { Routes } from "@bank/http"
import type { Context } from "hono"
import type { ProblemTag } from "./Problems.ts"
import type { Database } from "@bank/platform"
import { Effect, Option } from "effect"
import type { Redis } from "effect/persistence/Redis"
import * as AccountRef from "./AccountRef.ts"
import * as Cursor from "./Cursor.ts"
import { AccountNotFound, InvalidPageQuery } from "./Errors.ts"
import * as ReferenceData from "./ReferenceData.ts"
import * as TransactionPages from "./TransactionPages.ts"

export type Services = Redis | Database.Database | ReferenceData.ReferenceCache | TransactionPages.PageCache

export const DEFAULT_LIMIT = 20
export const MAX_LIMIT = 100

const respond = (body: string, source: "redis" | "postgres", cacheControl: string) =>
  new Response(body, {
    status: 200,
    headers: { "Content-Type": "application/json", "Cache-Control": cacheControl, "X-Data-Source": source }
  })

// A reference data set served from the in-process cache: Redis's data, as the cache holds it.
const cachedReferenceHeaders = {
  "Content-Type": "application/json",
  "Cache-Control": "private, max-age=60",
  "X-Data-Source": "redis"
}

/** The `limit` parameter: 1-100, default 20. */
export const parseLimit = (text: string | undefined): number | undefined => {
  if (text === undefined) return DEFAULT_LIMIT
  if (!/^[0-9]{1,3}$/.test(text)) return undefined
  const limit = Number(text)
  return limit >= 1 && limit <= MAX_LIMIT ? limit : undefined
}

interface PageQuery {
  readonly ref: AccountRef.AccountRef
  readonly account: string
  readonly before: number | undefined
  readonly limit: number
}

/** The page a request asks for, or the problem with its path or query. */
const pageQuery = (c: Context): PageQuery | AccountNotFound | InvalidPageQuery => {
  const ref = AccountRef.parse(c.req.param("id") ?? "")
  if (!ref) return new AccountNotFound({ accountId: (c.req.param("id") ?? "").slice(0, 64) })
  const limit = parseLimit(c.req.query("limit"))
  if (limit === undefined)
    return new InvalidPageQuery({ parameter: "limit", detail: `must be a whole number from 1 to ${MAX_LIMIT}` })
  const account = AccountRef.format(ref)
  const cursorText = c.req.query("cursor")
  if (cursorText === undefined) return { ref, account, before: undefined, limit }
  const position = Cursor.decode(cursorText, account)
  if (Option.isNone(position))
    return new InvalidPageQuery({ parameter: "cursor", detail: "is not a cursor of this account's pages" })
  return { ref, account, before: position.value.before, limit }
}

const cachedPageHeaders = {
  "Content-Type": "application/json",
  "Cache-Control": "private, no-store",
  "X-Data-Source": "redis"
}

export const prefetchRoutes: Routes<Services, ProblemTag> = (app, run) => {
  let pages: TransactionPages.PageCache["Service"] | undefined
  app.get("/v1/accounts/:id/transactions", (c) => {
    const { customerId } = principalOf(c)
    const query = pageQuery(c)
    if (query instanceof AccountNotFound || query instanceof InvalidPageQuery) return run(c, Effect.fail(query))
    // A page in the in-process cache is sent without an Effect run (no I/O, nothing to fail; no
    // span, so only while tracing is off: Run.ts).
    if (!run.traced) {
      pages ??= run.service(TransactionPages.PageCache)
      const body = pages.peek(customerId, query.account, query.before, query.limit)
      if (body != null) return plainResponse(body, cachedPageHeaders)
    }
    return run(
      c,
      Effect.map(TransactionPages.read(customerId, query.ref, query.before, query.limit), ({ body, source }) =>
        respond(body, source, "private, no-store")
      )
    )
  })

  let references: ReferenceData.ReferenceCache["Service"] | undefined
  const reference = (path: string, name: ReferenceData.DataSet) =>
    app.get(path, (c) => {
      // A cached set is sent without an Effect run (no I/O, nothing to fail; no span, so only
      // while tracing is off: Run.ts).
      if (!run.traced) {
        principalOf(c)
        references ??= run.service(ReferenceData.ReferenceCache)
        const body = references.peek(name)
        if (body !== undefined) return plainResponse(body, cachedReferenceHeaders)
      }
      return run(
        c,
        Effect.gen(function* () {
          principalOf(c)
          const { body, source } = yield* ReferenceData.read(name)
          return respond(body, source, "private, max-age=60")
        })
      )
    })
  reference("/v1/reference/products", "products")
  reference("/v1/reference/exchange-rates", "exchangeRates")
}
