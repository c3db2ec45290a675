// The dashboard end to end: generated systems of record in PostgreSQL, CDC into Redis, the
// dashboard projector as its own process (so it can be killed), identity for log-ins, and the
// edge over real HTTP with the dashboard routes and their Server-Sent Events.
import * as Dashboard from "@bank/dashboard"
import { PgDashboard, Reconcile } from "@bank/dashboard"
import { type EventStream, openEvents, startProcess } from "@bank/dashboard/testing"
import type { Routes } from "@bank/http"
import { EdgeServer } from "@bank/http"
import * as Identity from "@bank/identity"
import { Cdc } from "@bank/contracts"
import { Database, DocumentStore, Keys, PasswordHash, RedisClient, StreamLog } from "@bank/platform"
import { CdcConnector } from "@bank/cdc"
import { Generator, Simulator } from "@bank/core-banking"
import { Deferred, Effect, Layer, ManagedRuntime, References, Stream } from "effect"
import { Redis } from "effect/persistence/Redis"
import { randomBytes } from "node:crypto"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { usePostgres, useRedis } from "@bank/test-kit"

const postgres = usePostgres()
const redisServer = useRedis({ appendonly: true })
const settings = Identity.IdentityConfig.make({
  keys: Identity.Secrets.deriveKeys(randomBytes(32)),
  accessTokenTtlMs: 600_000,
  activityCoalesceMs: 60_000,
  dummyHashCost: 1024,
  trustedProxyHops: 1,
  usernameRateLimit: 1000,
  addressRateLimit: 1000
})
const scrypt = { ...PasswordHash.defaultParams, N: 1024 }
const routes: ReadonlyArray<
  Routes<Identity.RouteServices | Dashboard.RouteServices, Identity.ProblemTag | Dashboard.ProblemTag>
> = [
  (app, run) => {
    app.use("/v1/*", Identity.tokenCheck(run))
  },
  Identity.identityRoutes,
  Dashboard.dashboardRoutes({ heartbeatMs: 300 })
]

let base = ""
let runtime: ManagedRuntime.ManagedRuntime<any, any>
let db: pg.Client
let projector: ReturnType<typeof startProcess>
const startProjector = () =>
  startProcess("packages/dashboard/src/main.ts", {
    REDIS_URL: redisServer.server.url,
    DASHBOARD_OWNERSHIP_MS: "1500",
    LOG_LEVEL: "Error"
  })

beforeAll(async () => {
  const pgUrl = postgres.server.url
  await Effect.runPromise(
    Generator.seed(pgUrl, { customers: 8, months: 1, scrypt, hashPool: 8, progress: false }).pipe(
      Effect.provide(Database.layer(pgUrl))
    )
  )
  db = new pg.Client({ connectionString: pgUrl })
  await db.connect()
  const services = Layer.mergeAll(RedisClient.layer(redisServer.server.url), Database.layer(pgUrl))
  runtime = ManagedRuntime.make(
    Layer.mergeAll(
      EdgeServer.layer({
        port: 0,
        hostname: "127.0.0.1",
        problems: { ...Identity.problems, ...Dashboard.problems },
        routes
      }).pipe(Layer.provide(Layer.mergeAll(Identity.edgeLayer, Dashboard.edgeLayer))),
      Identity.actorsLayer,
      CdcConnector.layer({ databaseUrl: pgUrl, metricsPort: 0, slot: "dashboard_e2e", publication: "dashboard_e2e" }),
      DocumentStore.layer,
      StreamLog.layer
    ).pipe(
      Layer.provide(Identity.IdentityConfig.layer(settings)),
      Layer.provideMerge(services),
      Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
    )
  )
  base = `http://127.0.0.1:${await runtime.runPromise(EdgeServer.EdgeServer.useSync((s) => s.port))}`
  projector = startProjector()
  await vi.waitFor(async () => expect(await mismatches()).toEqual([]), { timeout: 90_000, interval: 500 })
}, 180_000)
afterAll(async () => {
  await projector?.stop()
  await runtime?.dispose()
  await db?.end()
})

const mismatches = () => runtime.runPromise(Reconcile.reconcile({ recheckAfterMs: 0 })).then((r) => r.mismatches)

const login = async (customerId: string) => {
  const { rows } = await db.query("SELECT username FROM customer.credentials WHERE customer_id = $1", [customerId])
  const response = await fetch(`${base}/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Forwarded-For": "10.1.2.3" },
    body: JSON.stringify({ username: rows[0].username, password: Generator.DEMO_PASSWORD })
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as { accessToken: string }).accessToken
}
const getDashboard = async (token: string, path = "/v1/dashboard") => {
  const response = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}` } })
  return { status: response.status, type: response.headers.get("content-type"), body: (await response.json()) as any }
}

// A ledger entry and the balance it moves, in one database transaction, on the customer's first
// live account of `system`, as that product's back end books it.
const accountTables = {
  deposits: {
    table: "deposits.accounts",
    id: "account_id",
    balance: "balance",
    also: ", available_balance = available_balance + $2",
    live: "open"
  },
  cards: {
    table: "cards.cards",
    id: "card_id",
    balance: "balance",
    also: ", available_credit = available_credit - $2",
    live: "active"
  },
  lending: { table: "lending.loans", id: "loan_id", balance: "outstanding", also: "", live: "active" },
  investments: { table: "investments.accounts", id: "account_id", balance: "cash_balance", also: "", live: "open" }
} as const
type System = keyof typeof accountTables
const holderOf = async (system: System, except?: string) => {
  const t = accountTables[system]
  const { rows } = await db.query(
    `SELECT customer_id::text AS id FROM ${t.table} WHERE status = $1 AND customer_id::text <> $2 ORDER BY customer_id LIMIT 1`,
    [t.live, except ?? ""]
  )
  return rows[0].id as string
}
const book = async (system: System, customerId: string, amount = 100) => {
  const t = accountTables[system]
  await db.query("BEGIN")
  const {
    rows: [a]
  } = await db.query(
    `SELECT ${t.id} AS id, ${t.balance} AS balance, last_entry_no, currency FROM ${t.table}
     WHERE customer_id = $1 AND status = $2 ORDER BY ${t.id} LIMIT 1 FOR UPDATE`,
    [customerId, t.live]
  )
  const entryNo = BigInt(a.last_entry_no) + 1n
  const {
    rows: [tx]
  } = await db.query(
    `INSERT INTO ${system}.transactions (${t.id}, customer_id, entry_no, amount, currency, booking_date, value_date, booked_at,
       description, counterparty, category, running_balance)
     VALUES ($1, $2, $3, $4, $5, current_date, current_date, now(), 'E2E entry', 'Test', $6, $7) RETURNING transaction_id::text AS id`,
    [
      a.id,
      customerId,
      String(entryNo),
      amount,
      a.currency,
      system === "lending" ? "interest" : "transfer_in",
      String(BigInt(a.balance) + BigInt(amount))
    ]
  )
  await db.query(
    `UPDATE ${t.table} SET ${t.balance} = ${t.balance} + $2, last_entry_no = $3${t.also} WHERE ${t.id} = $1`,
    [a.id, amount, String(entryNo)]
  )
  await db.query("COMMIT")
  return `${system}:${tx.id}`
}
/** Whether `dashboard.changes` holds a change of `customerId` after entry `id`. */
const announcedSince = (customerId: string, id: string) =>
  runtime
    .runPromise(
      Redis.use((r) =>
        r.send<Array<[string, Array<string>]>>(
          "XRANGE",
          Keys.stream(Dashboard.DashboardChanges.changes.name),
          `(${id}`,
          "+"
        )
      )
    )
    .then((entries) =>
      entries.some(([, fields]) =>
        fields.some((value, i) => i % 2 === 0 && value === "key" && fields[i + 1] === customerId)
      )
    )
const dashboardEvent = (events: EventStream, until: (doc: any) => boolean) =>
  events.next((e) => e.event === "dashboard" && until(JSON.parse(e.data!)), 30_000)

describe("dashboard", () => {
  it("serves each customer their own dashboard, equal to what the systems of record say, whatever id they try", async () => {
    const [a, b] = [await holderOf("deposits"), await holderOf("deposits", await holderOf("deposits"))]
    const [tokenA, tokenB] = [await login(a), await login(b)]
    const mine = await getDashboard(tokenA)
    expect(mine.status).toBe(200)
    expect(mine.type).toBe("application/json")
    expect(mine.body).toMatchObject({ customerId: a, asOf: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) })
    expect(Reconcile.compare(await runtime.runPromise(PgDashboard.assemble(a)), mine.body)).toEqual([])
    expect(mine.body.accounts.length).toBeGreaterThan(0)
    expect((await getDashboard(tokenB)).body.customerId).toBe(b)
    // Naming the other customer changes nothing, or names no route at all.
    expect((await getDashboard(tokenA, `/v1/dashboard?customerId=${b}`)).body.customerId).toBe(a)
    expect((await getDashboard(tokenA, `/v1/dashboard/${b}`)).status).toBe(404)
    expect((await fetch(`${base}/v1/dashboard`)).status).toBe(401)
    expect((await fetch(`${base}/v1/dashboard/events`, { headers: { Authorization: "Bearer nope" } })).status).toBe(401)
  })

  it("shows a transaction committed in any product system, and pushes it to that customer's event stream only", async () => {
    for (const system of ["deposits", "cards", "lending", "investments"] as const) {
      const owner = await holderOf(system)
      const other = await holderOf("deposits", owner)
      const [token, otherToken] = [await login(owner), await login(other)]
      const events = await openEvents(base, token)
      const otherEvents = await openEvents(base, otherToken)
      try {
        await dashboardEvent(events, () => true) // the current document comes first
        await dashboardEvent(otherEvents, () => true)
        const id = await book(system, owner)
        const pushed = await dashboardEvent(events, (doc) => doc.latestTransactions.some((t: any) => t.id === id))
        expect(pushed.id).toMatch(/^\d+-\d+$/)
        const { body } = await getDashboard(token)
        // 100 minor units in the account's currency, shown with its decimals.
        const { currency } = body.latestTransactions[0].amount
        expect(body.latestTransactions[0]).toMatchObject({
          id,
          amount: {
            amount: ({ JPY: "100", KWD: "0.100", BHD: "0.100" } as Record<string, string>)[currency] ?? "1.00",
            currency
          },
          description: "E2E entry"
        })
        expect(Reconcile.compare(await runtime.runPromise(PgDashboard.assemble(owner)), body)).toEqual([])
        // The other customer's stream stays quiet: a heartbeat comes, no dashboard event.
        const quiet = await otherEvents.next((e) => e.comment !== undefined || e.event === "dashboard", 10_000)
        expect(quiet.comment).toBeDefined()
        // Reconnecting after a missed change resumes from the last event id.
        events.close()
        const missed = await book(system, owner)
        // Missed for real: its change is announced (projected) before the client comes back; a
        // reconnect that races the projector would get a heartbeat first, then the live event.
        await vi.waitFor(async () => expect(await announcedSince(owner, pushed.id!)).toBe(true), {
          timeout: 30_000,
          interval: 50
        })
        const resumed = await openEvents(base, token, pushed.id)
        try {
          const first = await resumed.next((e) => e.event === "dashboard" || e.comment !== undefined, 10_000)
          expect(first.event).toBe("dashboard")
          const doc = JSON.parse(first.data!)
          expect(doc.latestTransactions.map((t: any) => t.id)).toContain(missed)
          // Resuming from the newest id with nothing new since: only heartbeats.
          resumed.close()
          const upToDate = await openEvents(base, token, first.id)
          const nothing = await upToDate.next((e) => e.event === "dashboard" || e.comment !== undefined, 10_000)
          upToDate.close()
          expect(nothing.comment).toBeDefined()
        } finally {
          resumed.close()
        }
      } finally {
        events.close()
        otherEvents.close()
      }
    }
  })

  it("ends equal to the systems of record after its projector is killed mid-stream and restarted", async () => {
    const changes = () =>
      runtime.runPromise(StreamLog.StreamLog.use((log) => log.length(Dashboard.DashboardChanges.changes)))
    const streamKeys = Dashboard.Dashboard.systems.flatMap((system) =>
      Cdc.streams(system, Cdc.defaultPartitions).map((spec) => Keys.stream(spec.name))
    )
    const lengths = () =>
      runtime.runPromise(Effect.forEach(streamKeys, (key) => Redis.use((r) => r.send<number>("XLEN", key))))
    const before = await changes()
    const stop = Deferred.makeUnsafe<void>()
    const simulation = runtime.runPromise(Simulator.run({ rate: 150, durationMs: 30_000, stop, seed: "dashboard-e2e" }))
    await vi.waitFor(async () => expect(await changes()).toBeGreaterThan(before + 40), {
      timeout: 30_000,
      interval: 50
    })
    await projector.kill()
    // Changes go on while it is down; then the bank goes quiet, so nothing later can hide a loss.
    const atKill = (await lengths()).reduce((a, b) => a + b, 0)
    await vi.waitFor(async () => expect((await lengths()).reduce((a, b) => a + b, 0)).toBeGreaterThan(atKill + 60), {
      timeout: 30_000,
      interval: 50
    })
    Deferred.doneUnsafe(stop, Effect.void)
    expect((await simulation).booked).toBeGreaterThan(20)
    // As if the killed process had also read the next entries of every stream and died holding
    // them (delivered, never acknowledged): the restarted projector must claim and apply them.
    let held = 0
    for (const key of streamKeys) {
      const reply = await runtime.runPromise(
        Redis.use((r) =>
          r.send<Array<[string, Array<unknown>]> | null>(
            "XREADGROUP",
            "GROUP",
            "dashboard",
            "killed-consumer",
            "COUNT",
            "20",
            "STREAMS",
            key,
            ">"
          )
        )
      )
      held += reply?.[0]?.[1].length ?? 0
    }
    expect(held).toBeGreaterThan(0)
    projector = startProjector()
    await vi.waitFor(async () => expect(await mismatches()).toEqual([]), { timeout: 60_000, interval: 500 })
    // Every entry the killed process held is acknowledged too (an entry that changes no document
    // leaves no mismatch, and a partition is taken over only once the dead member has lapsed).
    const pending = () =>
      runtime.runPromise(
        Effect.forEach(streamKeys, (key) =>
          Redis.use((r) => r.send<[number]>("XPENDING", key, "dashboard")).pipe(Effect.map(([n]) => Number(n)))
        )
      )
    await vi.waitFor(async () => expect(await pending()).toEqual(streamKeys.map(() => 0)), {
      timeout: 30_000,
      interval: 250
    })
  })

  it("changes nothing when every product stream is read and applied again, twice", async () => {
    const keys = Array.from({ length: 8 }, (_, i) => Dashboard.DashboardProjector.documentKey(String(i + 1)))
    const snapshot = () =>
      runtime.runPromise(DocumentStore.DocumentStore.use((s) => Effect.forEach(keys, (k) => s.getRaw(k))))
    const expected = await snapshot()
    const replay = Effect.forEach(
      Dashboard.Dashboard.systems.flatMap((system) =>
        Cdc.streams(system, Cdc.defaultPartitions).map((spec) => ({ system, spec }))
      ),
      ({ system, spec }) =>
        StreamLog.StreamLog.use((log) => Stream.runCollect(log.read(spec))).pipe(
          Effect.flatMap((delivered) => {
            const entries = delivered.flatMap((e) =>
              "payload" in e ? [{ entryId: e.entryId, payload: e.payload }] : []
            )
            return Dashboard.DashboardProjector.applyBatch(
              system,
              Dashboard.TransactionAssembler.make().feed(entries).units
            )
          })
        ),
      { discard: true }
    )
    await runtime.runPromise(replay)
    await runtime.runPromise(replay)
    expect(await snapshot()).toEqual(expected)
    expect(await runtime.runPromise(Effect.map(Reconcile.reconcile({ recheckAfterMs: 0 }), (r) => r.checked))).toBe(8)
  })
})
