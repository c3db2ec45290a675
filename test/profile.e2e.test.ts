// The profile end to end: generated systems of record in PostgreSQL, CDC into Redis, the profile
// projector and writer, identity for log-ins, and the edge over real HTTP. A PATCH goes to
// PostgreSQL through `profile.commands` and comes back to the document through CDC.
import type { Routes } from "@bank/http"
import { EdgeServer, StepUp } from "@bank/http"
import * as Identity from "@bank/identity"
import * as Profile from "@bank/profile"
import { Database, PasswordHash, ReadModel, RedisClient, StreamLog } from "@bank/platform"
import { CdcConnector, Rebuild } from "@bank/cdc"
import { Cdc, Profile as ProfileContract } from "@bank/contracts"
import { Generator } from "@bank/core-banking"
import { Effect, Layer, ManagedRuntime, References, Stream } from "effect"
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
const routes: ReadonlyArray<
  Routes<Identity.RouteServices | Profile.RouteServices, Identity.ProblemTag | Profile.ProblemTag>
> = [
  (app, run) => {
    app.use("/v1/*", Identity.tokenCheck(run))
  },
  Identity.identityRoutes,
  Profile.profileRoutes
]

let base = ""
let runtime: ManagedRuntime.ManagedRuntime<any, any>
let db: pg.Client
const tokens = new Map<string, string>()

beforeAll(async () => {
  const pgUrl = postgres.server.url
  await Effect.runPromise(
    Generator.seed(pgUrl, {
      customers: 3,
      months: 1,
      scrypt: { ...PasswordHash.defaultParams, N: 1024 },
      hashPool: 3,
      progress: false
    }).pipe(Effect.provide(Database.layer(pgUrl)))
  )
  db = new pg.Client({ connectionString: pgUrl })
  await db.connect()
  runtime = ManagedRuntime.make(
    Layer.mergeAll(
      EdgeServer.layer({
        port: 0,
        hostname: "127.0.0.1",
        problems: { ...Identity.problems, ...Profile.problems },
        routes
      }).pipe(Layer.provide(Layer.mergeAll(Identity.edgeLayer, Profile.edgeLayer))),
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

const mismatches = () =>
  runtime.runPromise(Profile.Reconcile.reconcile({ recheckAfterMs: 0 })).then((r) => r.mismatches)
const call = async (customer: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${tokens.get(customer)}`,
      ...(body !== undefined ? { "Content-Type": "application/json" } : {})
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  return { status: response.status, body: (await response.json()) as any }
}

describe("profile", () => {
  it("serves the caller's own profile, whole or only the fields asked for", async () => {
    const { status, body } = await call("1", "GET", "/v1/profile")
    expect(status).toBe(200)
    const {
      rows: [row]
    } = await db.query("SELECT email, city, segment FROM customer.customers WHERE customer_id = 1")
    expect(body).toMatchObject({
      customerId: "1",
      email: row.email,
      address: { city: row.city },
      segment: row.segment,
      username: "demo1"
    })
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
    const patch = {
      email: "new.address@example.com",
      phone: "+46701234567",
      address: { city: "Göteborg" },
      preferences: { theme: "dark", marketing: { sms: true } }
    }
    const accepted = await call("1", "PATCH", "/v1/profile", patch)
    expect(accepted).toEqual({ status: 202, body: { requestId: expect.any(String), status: "accepted" } })
    // Everything but the new e-mail address, which waits for the code sent to it.
    await vi.waitFor(
      async () => {
        const { body } = await call("1", "GET", "/v1/profile")
        expect(body).toMatchObject({
          phone: patch.phone,
          address: { city: "Göteborg" },
          preferences: { theme: "dark", marketing: { sms: true } },
          lastUpdate: { requestId: accepted.body.requestId, status: "pending-verification" }
        })
        expect(body.email).not.toBe(patch.email)
      },
      { timeout: 20_000, interval: 100 }
    )
    const entries = await runtime.runPromise(
      StreamLog.StreamLog.use((log) => Stream.runCollect(log.read(ProfileContract.emailOutbox)))
    )
    const sent = entries
      .flatMap((e) => ("payload" in e ? [e.payload] : []))
      .find((p) => p.requestId === accepted.body.requestId)
    expect(sent).toMatchObject({ customerId: "1", email: patch.email, code: expect.stringMatching(/^[0-9]{6}$/) })
    const confirmed = await call("1", "POST", "/v1/profile/email/confirm", { code: sent!.code })
    expect(confirmed).toEqual({ status: 202, body: { requestId: expect.any(String), status: "accepted" } })
    await vi.waitFor(
      async () => {
        const { body } = await call("1", "GET", "/v1/profile")
        expect(body).toMatchObject({
          email: patch.email,
          lastUpdate: { requestId: confirmed.body.requestId, status: "applied" }
        })
      },
      { timeout: 20_000, interval: 100 }
    )
    const {
      rows: [row]
    } = await db.query(
      `SELECT c.email, c.phone, c.city, p.theme, p.marketing_sms, p.consent_updated_at IS NOT NULL AS dated
       FROM customer.customers c JOIN crm.preferences p USING (customer_id) WHERE customer_id = 1`
    )
    expect(row).toEqual({
      email: patch.email,
      phone: patch.phone,
      city: "Göteborg",
      theme: "dark",
      marketing_sms: true,
      dated: true
    })
    expect(await mismatches()).toEqual([])
  })

  it("refuses an invalid PATCH with 400 and reports a change the systems of record reject", async () => {
    for (const body of [
      {},
      { email: "not-an-email" },
      { phone: "0701234567" },
      { preferences: { theme: "neon" } },
      { address: { country: "Sweden" } }
    ]) {
      expect((await call("2", "PATCH", "/v1/profile", body)).status).toBe(400)
    }
  })

  // Issue #13: whether an e-mail address belongs to another customer must not show. Customer 2
  // asks for customer 1's address (as stored and in other letter case) and for a free one: every
  // answer and outcome customer 2 can see is the same, and customer 1's address never becomes
  // customer 2's; only the code sent to the address itself (the outbox) makes a change happen.
  it("does not tell whether an e-mail address is another customer's, and never gives it to them", async () => {
    const {
      rows: [a]
    } = await db.query("SELECT email FROM customer.customers WHERE customer_id = 1")
    const before = (await call("2", "GET", "/v1/profile?fields=email")).body.email
    // What customer 2 sees of one e-mail change: the answer, then the outcome once there is one.
    const seen = async (email: string) => {
      const accepted = await call("2", "PATCH", "/v1/profile", { email })
      expect(accepted.status).toBe(202)
      const lastUpdate = await vi.waitFor(
        async () => {
          const { body } = await call("2", "GET", "/v1/profile?fields=lastUpdate,email")
          expect(body.lastUpdate?.requestId).toBe(accepted.body.requestId)
          return body
        },
        { timeout: 20_000, interval: 100 }
      )
      const { requestId, at, ...outcome } = lastUpdate.lastUpdate
      return {
        requestId,
        view: { status: accepted.status, keys: Object.keys(accepted.body).sort(), outcome, email: lastUpdate.email }
      }
    }
    const free = await seen("fresh.2@example.com")
    const takenAsStored = await seen(a.email)
    const takenOtherCase = await seen(a.email.toUpperCase())
    expect(takenAsStored.view).toEqual(free.view)
    expect(takenOtherCase.view).toEqual(free.view)
    expect(free.view.email).toBe(before)
    const emailOf2 = async () =>
      (await db.query("SELECT email FROM customer.customers WHERE customer_id = 2")).rows[0].email as string
    expect((await emailOf2()).toLowerCase()).not.toBe(a.email.toLowerCase())

    // Confirming: a wrong code and the right code for a taken address end the same way.
    const outbox = async (requestId: string) => {
      const entries = await runtime.runPromise(
        StreamLog.StreamLog.use((log) => Stream.runCollect(log.read(ProfileContract.emailOutbox)))
      )
      const entry = entries.flatMap((e) => ("payload" in e ? [e.payload] : [])).find((p) => p.requestId === requestId)
      expect(entry).toBeDefined()
      return entry!
    }
    expect((await outbox(takenOtherCase.requestId)).email).toBe(a.email.toUpperCase())
    const confirm = async (code: string) => {
      const accepted = await call("2", "POST", "/v1/profile/email/confirm", { code })
      expect(accepted.status).toBe(202)
      return vi.waitFor(
        async () => {
          const { body } = await call("2", "GET", "/v1/profile?fields=lastUpdate")
          expect(body.lastUpdate?.requestId).toBe(accepted.body.requestId)
          const { requestId: _r, at: _a, ...outcome } = body.lastUpdate
          return outcome
        },
        { timeout: 20_000, interval: 100 }
      )
    }
    const rightTaken = (await outbox(takenOtherCase.requestId)).code
    const wrong = await confirm(rightTaken === "000000" ? "000001" : "000000")
    expect(wrong).toEqual({ status: "rejected", reason: "verification-failed" })
    expect(await confirm(rightTaken)).toEqual(wrong)
    expect((await emailOf2()).toLowerCase()).not.toBe(a.email.toLowerCase())
    expect((await call("2", "GET", "/v1/profile?fields=email")).body.email).toBe(before)
    // A code is used once: asking again for the free address, its code applies it.
    const again = await seen("fresh.2@example.com")
    expect(again.view).toEqual(free.view)
    expect(await confirm((await outbox(again.requestId)).code)).toEqual({ status: "applied" })
    expect(await emailOf2()).toBe("fresh.2@example.com")
    await vi.waitFor(
      async () => expect((await call("2", "GET", "/v1/profile?fields=email")).body.email).toBe("fresh.2@example.com"),
      { timeout: 20_000, interval: 100 }
    )
  })

  it("rebuilds with one command beside the live one (request outcomes kept), and readers and the projector follow", async () => {
    const before = await call("1", "GET", "/v1/profile")
    const rebuilding = runtime.runPromise(
      Rebuild.rebuild(Profile.ProfileProjection.projection, {
        databaseUrl: postgres.server.url,
        slot: "profile_e2e",
        publication: "profile_e2e",
        partitions: Cdc.defaultPartitions,
        graceMs: 500,
        catchUpTimeoutMs: 60_000
      })
    )
    // A change while it rebuilds.
    await db.query("UPDATE customer.customers SET phone = '+46700000001' WHERE customer_id = 2")
    const summary = await rebuilding
    expect(summary).toMatchObject({ readModel: "profile", to: (summary as { from: number }).from + 1 })
    expect(await runtime.runPromise(ReadModel.generation("profile"))).toBe(summary.to)
    // A change after the switch reaches the new generation: the projector followed the pointer.
    await db.query("UPDATE customer.customers SET phone = '+46700000002' WHERE customer_id = 1")
    await vi.waitFor(async () => expect((await call("1", "GET", "/v1/profile")).body.phone).toBe("+46700000002"), {
      timeout: 20_000,
      interval: 100
    })
    expect((await call("2", "GET", "/v1/profile")).body.phone).toBe("+46700000001")
    const after = await call("1", "GET", "/v1/profile")
    expect(after.body.lastUpdate).toEqual(before.body.lastUpdate)
    await vi.waitFor(async () => expect(await mismatches()).toEqual([]), { timeout: 20_000, interval: 250 })
  })
})
