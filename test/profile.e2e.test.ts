// The profile end to end: generated systems of record in PostgreSQL, CDC into Redis, the profile
// projector and writer, identity for log-ins, and the edge over real HTTP. A PATCH goes to
// PostgreSQL through `profile.commands` and comes back to the document through CDC.
import type { Routes } from "@bank/http"
import { EdgeServer, StepUp } from "@bank/http"
import * as Identity from "@bank/identity"
import * as Profile from "@bank/profile"
import { Database, PasswordHash, ReadModel, RedisClient } from "@bank/platform"
import { CdcConnector, Rebuild } from "@bank/cdc"
import { Cdc } from "@bank/contracts"
import { Generator } from "@bank/core-banking"
import { Effect, Layer, ManagedRuntime, References } from "effect"
import { randomBytes } from "node:crypto"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { usePostgres, useRedis } from "@bank/test-kit"

const postgres = usePostgres()
const redisServer = useRedis()
const settings = Identity.IdentityConfig.make({
  keys: Identity.Secrets.deriveKeys(randomBytes(32)),
  accessTokenTtlMs: 600_000,
  activityCoalesceMs: 60_000,
  dummyHashCost: 1024,
  trustedProxyHops: 1
})
const routes: ReadonlyArray<Routes<Identity.RouteServices | Profile.RouteServices, Identity.ProblemTag | Profile.ProblemTag>> = [
  (app, run) => { app.use("/v1/*", Identity.tokenCheck(run)) },
  Identity.identityRoutes,
  Profile.profileRoutes
]

let base = ""
let runtime: ManagedRuntime.ManagedRuntime<any, any>
let db: pg.Client
const tokens = new Map<string, string>()

beforeAll(async () => {
  const pgUrl = postgres.server.url
  await Effect.runPromise(Generator.seed(pgUrl, { customers: 3, months: 1, scrypt: { ...PasswordHash.defaultParams, N: 1024 }, hashPool: 3, progress: false }).pipe(
    Effect.provide(Database.layer(pgUrl))
  ))
  db = new pg.Client({ connectionString: pgUrl })
  await db.connect()
  runtime = ManagedRuntime.make(
    Layer.mergeAll(
      EdgeServer.layer({ port: 0, hostname: "127.0.0.1", problems: { ...Identity.problems, ...Profile.problems }, routes }).pipe(Layer.provide(Layer.mergeAll(Identity.edgeLayer, Profile.edgeLayer))),
      Identity.actorsLayer,
      // As the profile process runs it: following the read model's generation pointer.
      Profile.ProfileProjector.layerFollowing,
      Profile.ProfileWriter.layer,
      CdcConnector.layer({ databaseUrl: pgUrl, metricsPort: 0, slot: "profile_e2e", publication: "profile_e2e" })
    ).pipe(
      Layer.provideMerge(Profile.edgeLayer),
      Layer.provide(Identity.IdentityConfig.layer(settings)),
      Layer.provide(StepUp.layer()),
      Layer.provideMerge(Layer.mergeAll(RedisClient.layer(redisServer.server.url), Database.layer(pgUrl))),
      Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
    )
  )
  base = `http://127.0.0.1:${await runtime.runPromise(EdgeServer.EdgeServer.useSync((s) => s.port))}`
  await vi.waitFor(async () => expect(await mismatches()).toEqual([]), { timeout: 60_000, interval: 250 })
  for (const id of ["1", "2"]) {
    const response = await fetch(`${base}/v1/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Forwarded-For": "10.9.8.7" },
      body: JSON.stringify({ username: `demo${id}`, password: Generator.DEMO_PASSWORD })
    })
    expect(response.status).toBe(200)
    tokens.set(id, ((await response.json()) as { accessToken: string }).accessToken)
  }
}, 180_000)
afterAll(async () => {
  await runtime?.dispose()
  await db?.end()
})

const mismatches = () => runtime.runPromise(Profile.Reconcile.reconcile({ recheckAfterMs: 0 })).then((r) => r.mismatches)
const call = async (customer: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${tokens.get(customer)}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  return { status: response.status, body: (await response.json()) as any }
}

describe("profile", () => {
  it("serves the caller's own profile, whole or only the fields asked for", async () => {
    const { status, body } = await call("1", "GET", "/v1/profile")
    expect(status).toBe(200)
    const { rows: [row] } = await db.query("SELECT email, city, segment FROM customer.customers WHERE customer_id = 1")
    expect(body).toMatchObject({ customerId: "1", email: row.email, address: { city: row.city }, segment: row.segment, username: "demo1" })
    expect(body).not.toHaveProperty("passwordHash")
    const some = await call("1", "GET", "/v1/profile?fields=email,address")
    expect(some).toEqual({ status: 200, body: { email: body.email, address: body.address } })
    expect((await call("2", "GET", "/v1/profile?customerId=1")).body.customerId).toBe("2")
    const bad = await call("1", "GET", "/v1/profile?fields=email,passwordHash")
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ type: "/docs/problems/unknown-profile-field", fields: ["passwordHash"] })
    expect((await fetch(`${base}/v1/profile`)).status).toBe(401)
  })

  it("writes a PATCH to PostgreSQL through a command, and the change comes back through CDC", async () => {
    const patch = { email: "new.address@example.com", phone: "+46701234567", address: { city: "Göteborg" }, preferences: { theme: "dark", marketing: { sms: true } } }
    const accepted = await call("1", "PATCH", "/v1/profile", patch)
    expect(accepted).toEqual({ status: 202, body: { requestId: expect.any(String), status: "accepted" } })
    await vi.waitFor(async () => {
      const { body } = await call("1", "GET", "/v1/profile")
      expect(body).toMatchObject({
        email: patch.email, phone: patch.phone, address: { city: "Göteborg" },
        preferences: { theme: "dark", marketing: { sms: true } },
        lastUpdate: { requestId: accepted.body.requestId, status: "applied" }
      })
    }, { timeout: 20_000, interval: 100 })
    const { rows: [row] } = await db.query(
      `SELECT c.email, c.phone, c.city, p.theme, p.marketing_sms, p.consent_updated_at IS NOT NULL AS dated
       FROM customer.customers c JOIN crm.preferences p USING (customer_id) WHERE customer_id = 1`)
    expect(row).toEqual({ email: patch.email, phone: patch.phone, city: "Göteborg", theme: "dark", marketing_sms: true, dated: true })
    expect(await mismatches()).toEqual([])
  })

  it("refuses an invalid PATCH with 400 and reports a change the systems of record reject", async () => {
    for (const body of [{}, { email: "not-an-email" }, { phone: "0701234567" }, { preferences: { theme: "neon" } }, { address: { country: "Sweden" } }]) {
      expect((await call("2", "PATCH", "/v1/profile", body)).status).toBe(400)
    }
    const taken = await call("2", "PATCH", "/v1/profile", { email: "New.Address@example.com" })
    expect(taken.status).toBe(202)
    await vi.waitFor(async () =>
      expect((await call("2", "GET", "/v1/profile?fields=lastUpdate")).body.lastUpdate).toMatchObject({
        requestId: taken.body.requestId, status: "rejected", reason: "email-taken"
      }), { timeout: 20_000, interval: 100 })
    expect((await call("2", "GET", "/v1/profile?fields=email")).body.email).not.toBe("New.Address@example.com")
  })

  it("rebuilds with one command beside the live one (request outcomes kept), and readers and the projector follow", async () => {
    const before = await call("1", "GET", "/v1/profile")
    const rebuilding = runtime.runPromise(Rebuild.rebuild(Profile.ProfileProjection.projection, {
      databaseUrl: postgres.server.url, slot: "profile_e2e", publication: "profile_e2e", partitions: Cdc.defaultPartitions, graceMs: 500, catchUpTimeoutMs: 60_000
    }))
    // A change while it rebuilds.
    await db.query("UPDATE customer.customers SET phone = '+46700000001' WHERE customer_id = 2")
    const summary = await rebuilding
    expect(summary).toMatchObject({ readModel: "profile", to: (summary as { from: number }).from + 1 })
    expect(await runtime.runPromise(ReadModel.generation("profile"))).toBe(summary.to)
    // A change after the switch reaches the new generation: the projector followed the pointer.
    await db.query("UPDATE customer.customers SET phone = '+46700000002' WHERE customer_id = 1")
    await vi.waitFor(async () => expect((await call("1", "GET", "/v1/profile")).body.phone).toBe("+46700000002"), { timeout: 20_000, interval: 100 })
    expect((await call("2", "GET", "/v1/profile")).body.phone).toBe("+46700000001")
    const after = await call("1", "GET", "/v1/profile")
    expect(after.body.lastUpdate).toEqual(before.body.lastUpdate)
    await vi.waitFor(async () => expect(await mismatches()).toEqual([]), { timeout: 20_000, interval: 250 })
  })
})

