// Identity end to end: customers and credentials in PostgreSQL, CDC into Redis, the
// credentials projection, the identity actor and the session projector, and the edge over real
// HTTP, all against a private PostgreSQL and a private Redis with the append-only file on.
// Lifetimes are short and scrypt is cheap (N=1024) through the config, as only tests do.
import * as Identity from "@bank/identity"
import { EdgeServer } from "@bank/http"
import { Database, Keys, PasswordHash, RedisClient } from "@bank/platform"
import { CdcConnector } from "@bank/cdc"
import { Migrations } from "@bank/records"
import { Effect, Layer, ManagedRuntime, References } from "effect"
import { spawn } from "node:child_process"
import { randomBytes, randomUUID } from "node:crypto"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import pg from "pg"
import { connectRedis, type TestRedisClient, testTopology, usePostgres, useRedis } from "@bank/test-kit"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"

const postgres = usePostgres()
const redisServer = useRedis({ appendonly: true })
const transportKey = randomBytes(32)
const settings = Identity.IdentityConfig.make({
  keys: Identity.Secrets.deriveKeys(transportKey),
  accessTokenTtlMs: 60_000,
  sessionIdleTimeoutMs: 8_000,
  sessionMaxLifetimeMs: 120_000,
  maxSessions: 3,
  recentActions: 5,
  activityCoalesceMs: 0,
  usernameRateLimit: 10,
  addressRateLimit: 15,
  lockoutThreshold: 3,
  lockoutDurationMs: 2_000,
  dummyHashCost: 1024,
  trustedProxyHops: 1,
  concurrency: 4
})
const PASSWORD = "correct horse battery"
// name → customer id; `carol` is disabled in the customer master.
const users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"] as const
const ids = Object.fromEntries(users.map((u, i) => [u, String(i + 1)])) as Record<(typeof users)[number], string>

let base = ""
let runtime: ManagedRuntime.ManagedRuntime<any, any>
let redis: TestRedisClient
let db: pg.Client

const seed = async () => {
  const hash = await Effect.runPromise(
    PasswordHash.hash(PASSWORD, { params: { ...PasswordHash.defaultParams, N: 1024 } })
  )
  for (const [i, user] of users.entries()) {
    await db.query(
      `INSERT INTO customer.customers (customer_id, given_name, family_name, email, address_line1, postal_code, city, country,
         date_of_birth, segment, roles) VALUES ($1, $2, 'Test', $3, '1 Main St', '1000', 'Brussels', 'BE', '1980-01-01', 'retail', $4)`,
      [i + 1, user, `${user}@example.com`, user === "alice" ? "{customer,premium}" : "{customer}"]
    )
    await db.query(
      "INSERT INTO customer.credentials (customer_id, username, password_hash, status) VALUES ($1, $2, $3, $4)",
      [i + 1, user, hash, user === "carol" ? "disabled" : "active"]
    )
  }
}

beforeAll(async () => {
  const pgUrl = postgres.server.url
  await Effect.runPromise(Migrations.migrate().pipe(Effect.provide(Database.layer(pgUrl))))
  db = new pg.Client({ connectionString: pgUrl })
  await db.connect()
  await seed()
  redis = await connectRedis(redisServer.server.url)
  const services = Layer.mergeAll(RedisClient.layer(redisServer.server.url), Database.layer(pgUrl))
  runtime = ManagedRuntime.make(
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
      Identity.actorsLayer,
      CdcConnector.layer({
        databaseUrl: pgUrl,
        schemas: ["customer"],
        metricsPort: 0,
        slot: "identity_e2e",
        publication: "identity_e2e"
      })
    ).pipe(
      Layer.provide(Identity.IdentityConfig.layer(settings)),
      Layer.provideMerge(services),
      Layer.provide(Layer.succeed(References.MinimumLogLevel, (process.env.TEST_LOG_LEVEL ?? "Error") as "Error"))
    )
  )
  const port = await runtime.runPromise(EdgeServer.EdgeServer.useSync((s) => s.port))
  base = `http://127.0.0.1:${port}`
  await vi.waitFor(async () => expect(await redis.get(Identity.IdentityKeys.loginName("judy"))).toBe(ids.judy), {
    timeout: 60_000,
    interval: 100
  })
}, 180_000)
afterAll(async () => {
  await runtime?.dispose()
  await redis?.close()
  await db?.end()
})

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: any
}
const call = async (
  method: string,
  path: string,
  options: { token?: string; body?: unknown; address?: string } = {}
): Promise<Answer> => {
  const headers: Record<string, string> = { "X-Forwarded-For": options.address ?? `10.${randomBytes(3).join(".")}` }
  if (options.token) headers.Authorization = `Bearer ${options.token}`
  if (options.body !== undefined) headers["Content-Type"] = "application/json"
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.body !== undefined
      ? { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) }
      : {})
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined }
}
const login = (username: string, password = PASSWORD, extra: { address?: string; deviceId?: string } = {}) =>
  call("POST", "/v1/auth/login", {
    body: { username, password, ...(extra.deviceId ? { deviceId: extra.deviceId } : {}) },
    ...(extra.address ? { address: extra.address } : {})
  })
const loggedIn = async (username: string, deviceId?: string) => {
  const answer = await login(username, PASSWORD, deviceId ? { deviceId } : {})
  expect(answer.status).toBe(200)
  return answer.body as {
    accessToken: string
    refreshToken: string
    sessionId: string
    customerId: string
    expiresIn: number
    roles: Array<string>
  }
}
const session = (token: string) => call("GET", "/v1/session", { token })
const expectProblem = (answer: Answer, status: number, type?: string) => {
  expect(answer.status).toBe(status)
  expect(answer.headers.get("content-type")).toBe("application/problem+json")
  if (type) expect(answer.body.type).toBe(`/docs/problems/${type}`)
}
const audit = async (): Promise<Array<Record<string, any>>> => {
  const entries = await redis.xRange(Keys.stream("identity.audit"), "-", "+")
  return entries.map((e) => ({
    ...(JSON.parse(e.message.data!) as Record<string, unknown>),
    raw: JSON.stringify(e.message)
  }))
}

describe("login", () => {
  it("logs in with credentials that came from PostgreSQL through CDC, and the token works", async () => {
    const tokens = await loggedIn("alice", "phone-1")
    expect(tokens).toMatchObject({ customerId: ids.alice, roles: ["customer", "premium"], expiresIn: 8 })
    expect(tokens.accessToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const answer = await session(tokens.accessToken)
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({
      sessionId: tokens.sessionId,
      customerId: ids.alice,
      device: { deviceId: "phone-1" }
    })
    // Redis holds no token, only hashes.
    const keys = await redis.keys("identity:*")
    expect(keys.some((k) => k.includes(tokens.accessToken) || k.includes(tokens.refreshToken))).toBe(false)
    expect(await redis.exists(Identity.IdentityKeys.accessToken(Identity.Secrets.hashToken(tokens.accessToken)))).toBe(
      1
    )
  })

  it("answers 400 to a malformed or incomplete body", async () => {
    expectProblem(await call("POST", "/v1/auth/login", { body: '{"username": ' }), 400, "malformed-body")
    const missing = await call("POST", "/v1/auth/login", { body: { username: "alice" } })
    expectProblem(missing, 400, "invalid-body")
    expect(missing.body.errors).toEqual([{ path: "/password", message: "Missing key" }])
  })

  it("gives an unknown username and a wrong password the same 401", async () => {
    const wrong = await login("bob", "not the password")
    const unknown = await login("nobody-here", "not the password")
    for (const answer of [wrong, unknown]) expectProblem(answer, 401, "invalid-credentials")
    const strip = ({ requestId: _r, ...rest }: Record<string, unknown>) => rest
    expect(strip(unknown.body)).toEqual(strip(wrong.body))
  })

  it("refuses a disabled account with 403 only when the password is right", async () => {
    expectProblem(await login("carol"), 403, "account-unavailable")
    expectProblem(await login("carol", "wrong"), 401, "invalid-credentials")
  })

  it("follows password and username changes in PostgreSQL", async () => {
    const hash = await Effect.runPromise(
      PasswordHash.hash("a new password", { params: { ...PasswordHash.defaultParams, N: 1024 } })
    )
    await db.query("UPDATE customer.credentials SET username = 'ivan.new', password_hash = $1 WHERE customer_id = $2", [
      hash,
      ids.ivan
    ])
    await vi.waitFor(async () => expect(await redis.get(Identity.IdentityKeys.loginName("ivan.new"))).toBe(ids.ivan), {
      timeout: 20_000,
      interval: 50
    })
    expect((await login("ivan.new", "a new password")).status).toBe(200)
    expectProblem(await login("ivan", "a new password"), 401)
    expectProblem(await login("ivan.new", PASSWORD), 401)
  })
})

describe("brute-force protection", () => {
  it("locks a username after repeated failures, known or not, with 429 and Retry-After, until it expires", async () => {
    for (const username of ["dave", "no-such-user"]) {
      for (let i = 0; i < 3; i++) expectProblem(await login(username, `wrong-${i}`), 401)
      const locked = await login(username, PASSWORD)
      expectProblem(locked, 429, "login-throttled")
      expect(Number(locked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
    }
    await vi.waitFor(async () => expect((await login("dave")).status).toBe(200), { timeout: 10_000, interval: 250 })
    const events = await audit()
    expect(events.filter((e) => e._tag === "AccountLockedOut" && e.customerId === ids.dave)).toHaveLength(1)
    expect(events.some((e) => e._tag === "AccountLockedOut" && e.customerId === undefined)).toBe(true)
  })

  it("lifts a lockout at once with scripts/unlock.ts", async () => {
    for (let i = 0; i < 3; i++) await login("erin", "wrong")
    expectProblem(await login("erin"), 429)
    // Locked for a minute rather than this suite's two seconds, so starting the script cannot outlast it.
    const fingerprint = Identity.Secrets.fingerprint(settings.keys, "username", "erin")
    expect(await redis.pExpire(Identity.IdentityKeys.loginThrottle(fingerprint, "lock"), 60_000)).toBe(1)
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/unlock.ts", "erin", "--by", "e2e-operator"], {
      env: {
        ...process.env,
        REDIS_URL: redisServer.server.url,
        IDENTITY_TRANSPORT_KEY: transportKey.toString("base64")
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve))
    expect(output).toContain("erin: unlocked")
    expect(code).toBe(0)
    expect((await login("erin")).status).toBe(200)
    expect((await audit()).some((e) => e._tag === "LockoutCleared" && e.by === "e2e-operator")).toBe(true)
  })

  it("rate-limits logins per username and per client address", async () => {
    for (let i = 0; i < 10; i++) expect((await login("frank")).status).toBe(200)
    const limited = await login("frank")
    expectProblem(limited, 429, "login-throttled")
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(1)

    const address = "192.0.2.77"
    for (let i = 0; i < 15; i++) expectProblem(await login(`someone-${i}`, "x", { address }), 401)
    expectProblem(await login("grace", PASSWORD, { address }), 429)
    expect((await login("grace")).status).toBe(200) // the same user from elsewhere
  })
})

describe("tokens", () => {
  it("rotates refresh tokens, and a reused one ends the whole session", async () => {
    const first = await loggedIn("bob")
    const rotated = await call("POST", "/v1/auth/refresh", { body: { refreshToken: first.refreshToken } })
    expect(rotated.status).toBe(200)
    expect(rotated.headers.get("cache-control")).toBe("no-store")
    const second = rotated.body as typeof first
    expect(second.sessionId).toBe(first.sessionId)
    expect(second.refreshToken).not.toBe(first.refreshToken)
    expectProblem(await session(first.accessToken), 401) // the old access token ended with the rotation
    expect((await session(second.accessToken)).status).toBe(200)

    expectProblem(
      await call("POST", "/v1/auth/refresh", { body: { refreshToken: first.refreshToken } }),
      401,
      "invalid-refresh-token"
    )
    expectProblem(await session(second.accessToken), 401)
    expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken: second.refreshToken } }), 401)
    expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken: "not-a-token" } }), 401)
    const events = await audit()
    expect(events.some((e) => e._tag === "RefreshTokenReused" && e.sessionId === first.sessionId)).toBe(true)
    expect(events.some((e) => e._tag === "SessionRevoked" && e.reason === "RefreshTokenReused")).toBe(true)
  })

  it("logs out: the token is refused at once", async () => {
    const tokens = await loggedIn("bob")
    expect((await call("POST", "/v1/auth/logout", { token: tokens.accessToken })).status).toBe(204)
    expectProblem(await session(tokens.accessToken), 401, "unauthenticated")
    expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken: tokens.refreshToken } }), 401)
    expect(
      (await audit()).some(
        (e) => e._tag === "SessionRevoked" && e.reason === "Logout" && e.sessionId === tokens.sessionId
      )
    ).toBe(true)
  })

  it("answers 401 on every /v1 route without a valid token", async () => {
    const routes = [
      ["POST", "/v1/auth/logout"],
      ["GET", "/v1/sessions"],
      ["DELETE", "/v1/sessions"],
      ["DELETE", `/v1/sessions/${randomUUID()}`],
      ["GET", "/v1/session"],
      ["PATCH", "/v1/session/preferences"],
      ["GET", "/v1/anything-else"]
    ] as const
    for (const [method, path] of routes) {
      const missing = await call(method, path)
      expectProblem(missing, 401, "unauthenticated")
      expect(missing.headers.get("www-authenticate")).toBe("Bearer")
      const forged = await call(method, path, { token: Identity.Secrets.newToken() })
      expectProblem(forged, 401)
      expect(forged.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"')
    }
  })
})

describe("sessions", () => {
  it("lists the customer's sessions and revokes one of them", async () => {
    const phone = await loggedIn("grace", "phone")
    const tablet = await loggedIn("grace", "tablet")
    const listed = await call("GET", "/v1/sessions", { token: phone.accessToken })
    expect(listed.status).toBe(200)
    const mine = listed.body.sessions as Array<{ sessionId: string; current: boolean; device: { deviceId: string } }>
    expect(mine.find((s) => s.sessionId === phone.sessionId)).toMatchObject({
      current: true,
      device: { deviceId: "phone" }
    })
    expect(mine.find((s) => s.sessionId === tablet.sessionId)).toMatchObject({
      current: false,
      device: { deviceId: "tablet" }
    })

    expect((await call("DELETE", `/v1/sessions/${tablet.sessionId}`, { token: phone.accessToken })).status).toBe(204)
    expectProblem(await session(tablet.accessToken), 401)
    expect((await session(phone.accessToken)).status).toBe(200)
    expectProblem(
      await call("DELETE", `/v1/sessions/${tablet.sessionId}`, { token: phone.accessToken }),
      404,
      "session-not-found"
    )
    // Another customer's session is not found either, and stays alive.
    const other = await loggedIn("heidi")
    expectProblem(await call("DELETE", `/v1/sessions/${other.sessionId}`, { token: phone.accessToken }), 404)
    expect((await session(other.accessToken)).status).toBe(200)
  })

  it("logs out everywhere", async () => {
    const a = await loggedIn("heidi")
    const b = await loggedIn("heidi")
    expect((await call("DELETE", "/v1/sessions", { token: a.accessToken })).status).toBe(204)
    for (const tokens of [a, b]) expectProblem(await session(tokens.accessToken), 401)
    expect(
      (await audit()).filter(
        (e) => e._tag === "SessionRevoked" && e.reason === "LoggedOutEverywhere" && e.customerId === ids.heidi
      ).length
    ).toBeGreaterThanOrEqual(2)
  })

  it("keeps at most the configured number of sessions, evicting the oldest", async () => {
    const sessions = [await loggedIn("judy"), await loggedIn("judy"), await loggedIn("judy"), await loggedIn("judy")]
    expectProblem(await session(sessions[0]!.accessToken), 401)
    const listed = await call("GET", "/v1/sessions", { token: sessions[3]!.accessToken })
    expect((listed.body.sessions as Array<{ sessionId: string }>).map((s) => s.sessionId)).toEqual(
      sessions.slice(1).map((s) => s.sessionId)
    )
    expect(
      (await audit()).some(
        (e) => e._tag === "SessionRevoked" && e.reason === "Evicted" && e.sessionId === sessions[0]!.sessionId
      )
    ).toBe(true)
  })

  it("records activity and preferences in the session document", async () => {
    const tokens = await loggedIn("alice")
    const patched = await call("PATCH", "/v1/session/preferences", {
      token: tokens.accessToken,
      body: { theme: "dark", language: "fr" }
    })
    expect(patched.status).toBe(200)
    expect(patched.body.preferences).toEqual({ theme: "dark", language: "fr" })
    expectProblem(
      await call("PATCH", "/v1/session/preferences", { token: tokens.accessToken, body: { theme: "neon" } }),
      400
    )
    await vi.waitFor(
      async () => {
        const document = (await session(tokens.accessToken)).body
        expect(document.preferences).toEqual({ theme: "dark", language: "fr" })
        expect(document.recentActions.map((a: { action: string }) => a.action)).toContain(
          "PATCH /v1/session/preferences"
        )
      },
      { timeout: 10_000, interval: 100 }
    )
    for (let i = 0; i < 6; i++) await session(tokens.accessToken)
    await vi.waitFor(
      async () => {
        const actions = (await session(tokens.accessToken)).body.recentActions as Array<{
          action: string
          status: number
        }>
        expect(actions).toHaveLength(5) // recentActions: 5 in this config
        expect(actions.at(-1)).toMatchObject({ action: "GET /v1/session", status: 200 })
      },
      { timeout: 10_000, interval: 100 }
    )
  })

  it("ends a session that stays idle, and its tokens with it", async () => {
    const tokens = await loggedIn("bob")
    const accessKey = Identity.IdentityKeys.accessToken(Identity.Secrets.hashToken(tokens.accessToken))
    // Watch Redis, not the API: a request would count as activity and keep the session alive.
    await vi.waitFor(async () => expect(await redis.exists(accessKey)).toBe(0), { timeout: 20_000, interval: 250 })
    expectProblem(await session(tokens.accessToken), 401)
    expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken: tokens.refreshToken } }), 401)
  })
})

describe("audit trail", () => {
  it("has an event for every outcome and never a password or a token", async () => {
    const tokens = await loggedIn("grace")
    await call("POST", "/v1/auth/logout", { token: tokens.accessToken })
    const events = await audit()
    const tags = new Set(events.map((e) => e._tag))
    for (const tag of [
      "LoginSucceeded",
      "LoginFailed",
      "AccountLockedOut",
      "LockoutCleared",
      "TokenRefreshed",
      "RefreshTokenReused",
      "SessionRevoked"
    ]) {
      expect(tags).toContain(tag)
    }
    const reasons = new Set(events.filter((e) => e._tag === "LoginFailed").map((e) => e.reason))
    for (const reason of ["WrongPassword", "UnknownUser", "AccountUnavailable", "RateLimited", "LockedOut"])
      expect(reasons).toContain(reason)
    const everything = events.map((e) => e.raw).join("\n")
    for (const secret of [PASSWORD, "not the password", "a new password", tokens.accessToken, tokens.refreshToken]) {
      expect(everything).not.toContain(secret)
    }
    // Unknown usernames appear only as fingerprints (it might be a password typed in the wrong field).
    expect(everything).not.toContain("no-such-user")
    // Nor does any stream hold a password in clear.
    const requests = await redis.xRange(Keys.stream("identity.requests"), "-", "+")
    expect(JSON.stringify(requests)).not.toContain(PASSWORD)
  })
})

// Last, since it restarts the shared Redis.
describe("persistence", () => {
  it("survives a Redis crash and restart (AOF, appendfsync everysec)", async () => {
    const tokens = await loggedIn("alice", "crash-phone")
    await call("PATCH", "/v1/session/preferences", { token: tokens.accessToken, body: { theme: "light" } })
    await vi.waitFor(async () => expect((await session(tokens.accessToken)).body.preferences.theme).toBe("light"), {
      timeout: 10_000
    })
    // With appendfsync everysec Redis may hold a write back for up to ~2 s while a background
    // fsync runs, so a process crash before it reaches the AOF loses it (README: Persistence).
    // Wait until the append-only file has it, as a second of traffic would.
    // On a cluster every node keeps its own AOF (<dir>/<port>/appendonlydir): the write must be in
    // its master's and its replica's, so whichever comes back as master has it.
    const aofHas = (text: string) => {
      const root = redisServer.server.dir
      const dirs = [join(root, "appendonlydir"), ...readdirSync(root).map((node) => join(root, node, "appendonlydir"))]
      const holding = dirs.filter(
        (dir) => existsSync(dir) && readdirSync(dir).some((f) => readFileSync(join(dir, f), "latin1").includes(text))
      )
      return holding.length >= (testTopology() === "cluster" ? 2 : 1)
    }
    await vi.waitFor(() => expect(aofHas('"theme":"light"')).toBe(true), { timeout: 10_000, interval: 100 })
    await redisServer.server.kill() // SIGKILL: no shutdown save
    await redisServer.server.restart()
    await vi.waitFor(async () => expect((await session(tokens.accessToken)).status).toBe(200), {
      timeout: 30_000,
      interval: 200
    })
    const document = (await session(tokens.accessToken)).body
    expect(document).toMatchObject({
      sessionId: tokens.sessionId,
      preferences: { theme: "light" },
      device: { deviceId: "crash-phone" }
    })
    const listed = await call("GET", "/v1/sessions", { token: tokens.accessToken })
    expect((listed.body.sessions as Array<{ sessionId: string }>).map((s) => s.sessionId)).toContain(tokens.sessionId)
    // The actors and the edge's request/reply reconnect: the token family survived, so it rotates.
    let refreshed: Awaited<ReturnType<typeof call>> | undefined
    await vi.waitFor(
      async () => {
        refreshed = await call("POST", "/v1/auth/refresh", { body: { refreshToken: tokens.refreshToken } })
        expect([503, 504]).not.toContain(refreshed.status)
      },
      { timeout: 30_000, interval: 500 }
    )
    expect(refreshed?.status).toBe(200)
    expect(refreshed?.body.sessionId).toBe(tokens.sessionId)
  })
})
