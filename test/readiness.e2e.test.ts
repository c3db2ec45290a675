// Ready means ready: from the moment the edge listens until the credentials have loaded from
// the customer master through CDC, /readyz answers 503 with Retry-After and a login with the
// right password answers 503 with Retry-After, never 401 "wrong password". Once /readyz says 200
// the very first login succeeds; a read model marked stale takes the edge out of service again.
import { EdgeServer } from "@bank/http"
import * as Identity from "@bank/identity"
import { Database, PasswordHash, Readiness, RedisClient } from "@bank/platform"
import { CdcConnector } from "@bank/cdc"
import { Migrations } from "@bank/records"
import { Effect, Layer, ManagedRuntime, References } from "effect"
import pg from "pg"
import { createClient } from "redis"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { usePostgres, useRedis } from "@bank/test-kit"

const postgres = usePostgres()
const redisServer = useRedis()
const PASSWORD = "correct horse battery"
const slot = "readiness_e2e"

let base = ""
let system: ManagedRuntime.ManagedRuntime<any, any> | undefined
let connector: ManagedRuntime.ManagedRuntime<any, any> | undefined
let redis: ReturnType<typeof createClient>

const call = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json", "x-forwarded-for": "10.1.2.3" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined }
}
const login = (username: string) => call("POST", "/v1/auth/login", { username, password: PASSWORD })

beforeAll(async () => {
  const pgUrl = postgres.server.url
  await Effect.runPromise(Migrations.migrate().pipe(Effect.provide(Database.layer(pgUrl))))
  const db = new pg.Client({ connectionString: pgUrl })
  await db.connect()
  const hash = await Effect.runPromise(
    PasswordHash.hash(PASSWORD, { params: { ...PasswordHash.defaultParams, N: 1024 } })
  )
  for (let i = 1; i <= 50; i++) {
    await db.query(
      `INSERT INTO customer.customers (customer_id, given_name, family_name, email, address_line1, postal_code, city, country,
         date_of_birth, segment, roles) VALUES ($1, $2, 'Test', $3, '1 Main St', '1000', 'Brussels', 'BE', '1980-01-01', 'retail', '{customer}')`,
      [i, `user${i}`, `user${i}@example.com`]
    )
    await db.query(
      "INSERT INTO customer.credentials (customer_id, username, password_hash, status) VALUES ($1, $2, $3, 'active')",
      [i, `user${i}`, hash]
    )
  }
  await db.end()
  redis = createClient({ url: redisServer.server.url })
  redis.on("error", () => {})
  await redis.connect()
  const readiness = Readiness.layer({
    readModels: [Identity.CredentialsProjection.readModel, Identity.SessionProjector.readModel],
    cdcSnapshotMarker: CdcConnector.keys(slot).snapshot
  })
  // The edge, the identity actor and its projections; the CDC connector is started by a test.
  system = ManagedRuntime.make(
    Layer.mergeAll(
      EdgeServer.layer({
        port: 0,
        hostname: "127.0.0.1",
        problems: Identity.problems,
        routes: [
          (app, run) => {
            app.use("/v1/*", Identity.tokenCheck(run))
          },
          Identity.identityRoutes
        ]
      }).pipe(Layer.provide(Identity.edgeLayer)),
      Identity.actorsLayer
    ).pipe(
      Layer.provide(readiness),
      Layer.provide(
        Identity.IdentityConfig.layer(
          Identity.IdentityConfig.make({ dummyHashCost: 1024, concurrency: 4, trustedProxyHops: 1 })
        )
      ),
      Layer.provideMerge(Layer.mergeAll(RedisClient.layer(redisServer.server.url), Database.layer(pgUrl))),
      Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
    )
  )
  const port = await system.runPromise(EdgeServer.EdgeServer.useSync((s) => s.port))
  base = `http://127.0.0.1:${port}`
}, 180_000)

afterAll(async () => {
  await connector?.dispose()
  await system?.dispose()
  await redis?.close()
})

describe("readiness", () => {
  it("says 503 with Retry-After, and a right password gets 503 rather than 401, until the credentials have loaded", async () => {
    const ready = await call("GET", "/readyz")
    expect(ready.status).toBe(503)
    expect(Number(ready.headers.get("retry-after"))).toBeGreaterThan(0)
    expect(ready.body.readModels.credentials.status).toBe("loading")
    expect(ready.body.detail).toMatch(/credentials loading/i)

    const early = await login("user7")
    expect(early.status).toBe(503)
    expect(Number(early.headers.get("retry-after"))).toBeGreaterThan(0)
    expect(early.body.type).toMatch(/login-not-ready$/)
    expect((await call("GET", "/healthz")).status).toBe(200)
  })

  it("answers 200 only once a login would succeed, and the first login after it does", async () => {
    connector = ManagedRuntime.make(
      CdcConnector.layer({
        databaseUrl: postgres.server.url,
        schemas: ["customer"],
        metricsPort: 0,
        slot,
        publication: slot
      }).pipe(
        Layer.provide(RedisClient.layer(redisServer.server.url)),
        Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
      )
    )
    await connector.runPromise(Effect.void)
    await vi.waitFor(async () => expect((await call("GET", "/readyz")).status).toBe(200), {
      timeout: 90_000,
      interval: 50
    })
    // Every customer, not only the first: readiness waited for the whole snapshot.
    for (const username of ["user50", "user1", "user25"]) expect((await login(username)).status).toBe(200)
    expect((await login("nobody")).status).toBe(401)
  })

  it("goes back to 503 while a read model is marked stale", async () => {
    await redis.set(Readiness.staleKey("credentials"), "repair in progress")
    const stale = await call("GET", "/readyz")
    expect(stale.status).toBe(503)
    expect(stale.body.readModels.credentials.status).toBe("stale")
    await redis.del(Readiness.staleKey("credentials"))
    expect((await call("GET", "/readyz")).status).toBe(200)
  })
})
