// The lean reference for the edge's authenticated reads: plain Hono on @hono/node-server with one
// node-redis client, no Effect, doing exactly the Redis reads of each measured edge route and
// nothing else (no request ids, no problem details, no activity trail, no tracing):
//   GET /healthz                    {"status":"ok"}: plain Hono, the baseline of the edge's /healthz
//   GET /v1/dashboard               HGETALL identity:access:<hash>, then GET {c:<id>}:doc:dashboard
//   GET /v1/profile                 the token, then GET {c:<id>}:doc:profile and
//                                   {c:<id>}:profile-last-update at once (added as `lastUpdate`)
//   GET /v1/session                 the token, then GET {c:<id>}:doc:session:<session>
//   GET /v1/reference/products      the token, then HMGET global:ref:products gen body loadedAt
// The token is parsed and hashed as the edge does (Bearer, 43 base64url characters, SHA-256) and
// its record checked for customer, session and expiry, so a bad token costs what it costs there.
// Reads REDIS_URL; prints `listening <port>`.
import { serve } from "@hono/node-server"
import { Hono, type Context } from "hono"
import { createHash } from "node:crypto"
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
app.get("/v1/reference/products", async (c) => {
  const who = await caller(c)
  if (!who) return unauthorized(c)
  const [, body] = await redis.hmGet("global:ref:products", ["gen", "body", "loadedAt"])
  return body
    ? c.body(body, 200, { ...json, "Cache-Control": "private, max-age=60" })
    : c.json({ title: "Not cached" }, 503)
})

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
  console.log(`listening ${info.port}`)
)
process.on("SIGTERM", () => server.close(() => void redis.close().finally(() => process.exit(0))))
