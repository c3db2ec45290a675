// The lean reference for the edge's authenticated reads: plain Hono on @hono/node-server with one
// node-redis client, no Effect, doing exactly the Redis reads of each measured edge route and
// nothing else (no request ids, no problem details, no activity trail, no tracing):
//   GET /healthz                    {"status":"ok"}: plain Hono, the baseline of the edge's /healthz
//   GET /v1/dashboard               HGETALL identity:access:<hash>, then GET {c:<id>}:doc:dashboard
//   GET /v1/profile                 the token, then GET {c:<id>}:doc:profile and
//                                   {c:<id>}:profile-last-update at once (added as `lastUpdate`)
//   GET /v1/session                 the token, then GET {c:<id>}:doc:session:<session>
//   GET /v1/reference/products      the token, then HMGET global:ref:products gen body loadedAt
//   GET /v1/reference/exchange-rates  the same of global:ref:exchange-rates
//   GET /v1/accounts/{id}/transactions  the token, then packages/prefetch's page.lua (its text,
//                                   read from the file, run by EVALSHA) over the caller's window
//                                   {c:<id>}:txmeta:<account> and {c:<id>}:txns:<account>; the
//                                   page built as packages/prefetch TransactionPages.read and
//                                   Transactions.view build it, reimplemented here (those modules
//                                   import Effect): {accountId, currency, transactions, nextCursor}.
//                                   The id, limit and cursor are checked as the edge does; without a
//                                   window that answers the page it is 503 (the edge reads PostgreSQL).
// The token is parsed and hashed as the edge does (Bearer, 43 base64url characters, SHA-256) and
// its record checked for customer, session and expiry, so a bad token costs what it costs there.
// Reads REDIS_URL; prints `listening <port>`.
import { serve } from "@hono/node-server"
import { Hono, type Context } from "hono"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { createClient } from "redis"

const redis = createClient({ url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" })
redis.on("error", () => {})
await redis.connect()

interface Caller {
  readonly customerId: string
  readonly sessionId: string
}

const unauthorized = (c: Context) => c.json({ title: "Unauthenticated" }, 401, { "WWW-Authenticate": "Bearer" })

const caller = async (c: Context): Promise<Caller | undefined> => {
  const match = /^Bearer[ ]+([A-Za-z0-9_-]{43})[ ]*$/i.exec(c.req.header("Authorization") ?? "")
  if (!match) return undefined
  const hash = createHash("sha256").update(match[1]!).digest("base64url")
  const record = await redis.hGetAll(`identity:access:${hash}`)
  if (!record.c || !record.s || (record.x !== undefined && Number(record.x) <= Date.now())) return undefined
  return { customerId: record.c, sessionId: record.s }
}

const json = { "Content-Type": "application/json", "Cache-Control": "private, no-store" }

/** A route that reads one stored document of the caller, sent as is. */
const documentRoute = (path: string, keyOf: (who: Caller) => string) =>
  app.get(path, async (c) => {
    const who = await caller(c)
    if (!who) return unauthorized(c)
    const body = await redis.get(keyOf(who))
    return body === null ? c.json({ title: "Not found" }, 404) : c.body(body, 200, json)
  })

const app = new Hono()
app.get("/healthz", (c) => c.json({ status: "ok" }))
documentRoute("/v1/dashboard", (who) => `{c:${who.customerId}}:doc:dashboard`)
app.get("/v1/profile", async (c) => {
  const who = await caller(c)
  if (!who) return unauthorized(c)
  const [body, lastUpdate] = await Promise.all([
    redis.get(`{c:${who.customerId}}:doc:profile`),
    redis.get(`{c:${who.customerId}}:profile-last-update`)
  ])
  if (body === null) return c.json({ title: "Not found" }, 404)
  const end = body.lastIndexOf("}")
  return c.body(lastUpdate === null ? body : `${body.slice(0, end)},"lastUpdate":${lastUpdate}}`, 200, json)
})
documentRoute("/v1/session", (who) => `{c:${who.customerId}}:doc:session:${who.sessionId}`)
const referenceRoute = (path: string, key: string) =>
  app.get(path, async (c) => {
    const who = await caller(c)
    if (!who) return unauthorized(c)
    const [, body] = await redis.hmGet(key, ["gen", "body", "loadedAt"])
    return body
      ? c.body(body, 200, { ...json, "Cache-Control": "private, max-age=60" })
      : c.json({ title: "Not cached" }, 503)
  })
referenceRoute("/v1/reference/products", "global:ref:products")
referenceRoute("/v1/reference/exchange-rates", "global:ref:exchange-rates")

// The transactions page (packages/prefetch Routes.ts, TransactionPages.ts, Transactions.ts,
// AccountRef.ts, Cursor.ts and records' minorToText, reimplemented without Effect).
const pageLua = readFileSync(new URL("../../../packages/prefetch/src/lua/page.lua", import.meta.url), "utf8")
const pageSha = createHash("sha1").update(pageLua).digest("hex")
const systems = new Set(["deposits", "cards", "lending", "investments"])
type Compact = [string, number, string, string, string, string, string, string | null, string, string]

const minorToText = (minor: bigint, exponent: number): string => {
  const negative = minor < 0n
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, "0")
  const whole = digits.slice(0, digits.length - exponent)
  return `${negative ? "-" : ""}${whole}${exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : ""}`
}

const beforeOf = (cursor: string, account: string): number | undefined => {
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(cursor)) return undefined
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as {
      v?: unknown
      a?: unknown
      b?: unknown
    }
    if (value.v !== 1 || value.a !== account) return undefined
    return typeof value.b === "number" && Number.isSafeInteger(value.b) && value.b >= 1 ? value.b : undefined
  } catch {
    return undefined
  }
}

const pageOf = async (keys: [string, string], before: string, limit: number) => {
  const options = { keys, arguments: [before, String(limit)] }
  try {
    return (await redis.evalSha(pageSha, options)) as Array<string> | null
  } catch (error) {
    if (!String(error).includes("NOSCRIPT")) throw error
    return (await redis.eval(pageLua, options)) as Array<string> | null
  }
}

app.get("/v1/accounts/:id/transactions", async (c) => {
  const who = await caller(c)
  if (!who) return unauthorized(c)
  const account = c.req.param("id")
  const ref = /^([a-z]+):([1-9][0-9]{0,18})$/.exec(account)
  if (!ref || !systems.has(ref[1]!) || BigInt(ref[2]!) > 2n ** 63n - 1n) return c.json({ title: "Not found" }, 404)
  const limitText = c.req.query("limit")
  const limit = limitText === undefined ? 20 : /^[0-9]{1,3}$/.test(limitText) ? Number(limitText) : 0
  if (limit < 1 || limit > 100) return c.json({ title: "Bad request" }, 400)
  const cursor = c.req.query("cursor")
  const before = cursor === undefined ? undefined : beforeOf(cursor, account)
  if (cursor !== undefined && before === undefined) return c.json({ title: "Bad request" }, 400)
  const tag = `{c:${who.customerId}}`
  const reply = await pageOf(
    [`${tag}:txmeta:${account}`, `${tag}:txns:${account}`],
    before === undefined ? "" : String(before),
    limit
  )
  if (!reply || reply.length < 2) return c.json({ title: "Not prefetched" }, 503)
  const [currency, exponentText, ...members] = reply as [string, string, ...Array<string>]
  const exponent = Number(exponentText)
  const entries = members.map((m) => JSON.parse(m) as Compact)
  const money = (minor: string) => ({ amount: minorToText(BigInt(minor), exponent), currency })
  const oldest = entries.at(-1)
  const page = {
    accountId: account,
    currency,
    transactions: entries.map((e) => ({
      transactionId: e[0],
      entryNo: e[1],
      amount: money(e[2]),
      bookingDate: e[3],
      valueDate: e[4],
      bookedAt: e[5],
      description: e[6],
      counterparty: e[7],
      category: e[8],
      runningBalance: money(e[9])
    })),
    nextCursor:
      entries.length === limit && oldest !== undefined && oldest[1] > 1
        ? Buffer.from(JSON.stringify({ v: 1, a: account, b: oldest[1] })).toString("base64url")
        : null
  }
  return c.body(JSON.stringify(page), 200, { ...json, "X-Data-Source": "redis" })
})

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
  console.log(`listening ${info.port}`)
)
process.on("SIGTERM", () => server.close(() => void redis.close().finally(() => process.exit(0))))
