// A Redis master dies under load, on a private 6-node Redis Cluster (3 masters, 3 replicas).
// Logins, token checks, session and dashboard reads, the dashboard's SSE feed, transfers and the
// core-banking simulator all run at once; then the master owning a logged-in customer's access
// token is SIGKILLed, and later the master owning a CDC stream. Nothing of ours is restarted.
// Afterwards every login that answered 200 before still works (old access token 200, refresh
// rotates), reconciliation against PostgreSQL reports 0, and no request got a 500 or a 401 for
// a valid token: what failed in the window was a 503 with Retry-After. The windows are printed.
process.env.TEST_REDIS_TOPOLOGY = "cluster"

import { Cdc } from "@bank/contracts"
import { Generator, Simulator } from "@bank/core-banking"
import { Reconcile } from "@bank/dashboard"
import { openEvents, startProcess } from "@bank/dashboard/testing"
import * as Identity from "@bank/identity"
import { Database, DocumentStore, Keys, PasswordHash } from "@bank/platform"
import type { LocalRedisCluster } from "@bank/test-kit"
import { Deferred, Effect, Fiber } from "effect"
import { randomUUID } from "node:crypto"
import { afterAll, describe, expect, it, vi } from "vitest"
import { useStack } from "./support/bankStack.ts"

const scrypt = { ...PasswordHash.defaultParams, N: 1024 }
const stack = useStack({
  seed: (_db, url) =>
    Effect.runPromise(
      Generator.seed(url, { customers: 8, months: 1, scrypt, hashPool: 8, progress: false }).pipe(
        Effect.provide(Database.layer(url)),
        Effect.asVoid
      )
    ),
  waitForUser: "demo1",
  allRoutes: true,
  // The load logs the same customers in again and again: no session cap may evict the ones checked.
  identity: { accessTokenTtlMs: 600_000, usernameRateLimit: 100_000, addressRateLimit: 100_000, maxSessions: 100_000 }
})
let projector: ReturnType<typeof startProcess> | undefined
afterAll(async () => {
  await projector?.stop()
})

const cluster = () => stack.redisServer as LocalRedisCluster
const mismatches = () =>
  stack.runtime
    .runPromise(Reconcile.reconcile({ recheckAfterMs: 0 }).pipe(Effect.provide(DocumentStore.layer)))
    .then((r) => r.mismatches)

interface Seen {
  readonly at: number
  readonly what: string
  readonly status: number
  readonly retryAfter: string | null
}

describe("Redis Cluster failover under load", () => {
  it("keeps every login, loses no change, and answers 503 + Retry-After in the window", async () => {
    projector = startProcess("packages/dashboard/src/main.ts", {
      REDIS_URL: stack.redisServer.url,
      DASHBOARD_OWNERSHIP_MS: "1500",
      LOG_LEVEL: "Error"
    })
    await vi.waitFor(async () => expect(await mismatches()).toEqual([]), { timeout: 120_000, interval: 500 })

    const users = (
      await stack.db.query("SELECT customer_id::text AS id, username FROM customer.credentials ORDER BY customer_id")
    ).rows as Array<{ id: string; username: string }>
    const login = (username: string) =>
      stack.call("POST", "/v1/auth/login", { body: { username, password: Generator.DEMO_PASSWORD } })
    const sessions = [] as Array<{ customerId: string; accessToken: string; refreshToken: string }>
    for (const user of users) {
      const answer = await login(user.username)
      expect(answer.status).toBe(200)
      sessions.push(answer.body)
    }
    const {
      rows: [pair]
    } = await stack.db.query(
      `SELECT a.account_id::text AS from_id, b.account_id::text AS to_id, a.currency, a.customer_id::text AS customer
       FROM deposits.accounts a JOIN deposits.accounts b ON b.currency = a.currency AND b.account_id <> a.account_id
       WHERE a.status = 'open' AND b.status = 'open' AND a.balance > 100 ORDER BY a.account_id LIMIT 1`
    )
    const payer = sessions.find((s) => s.customerId === pair.customer)!

    // ── Load: every request recorded; the SSE feed of the first customer; the simulator ──────
    const seen: Array<Seen> = []
    const record = async (what: string, request: Promise<{ status: number; headers: Headers }>) => {
      const answer = await request.catch(() => ({ status: 0, headers: new Headers() }))
      seen.push({ at: Date.now(), what, status: answer.status, retryAfter: answer.headers.get("retry-after") })
      return answer
    }
    let running = true
    // Independent loops, so a login waiting for its reply does not hold up the reads.
    const loop = async (step: (round: number) => Promise<unknown>) => {
      for (let round = 0; running; round++) await step(round)
    }
    const load = Promise.all([
      loop((round) => {
        const s = sessions[round % sessions.length]!
        return Promise.all([
          record(`session:${s.customerId}`, stack.call("GET", "/v1/session", { token: s.accessToken })),
          record("dashboard", stack.call("GET", "/v1/dashboard", { token: s.accessToken }))
        ])
      }),
      loop((round) => record("login", login(users[round % users.length]!.username))),
      loop(() =>
        record(
          "transfer",
          stack.call("POST", "/v1/transfers", {
            token: payer.accessToken,
            headers: { "Idempotency-Key": randomUUID() },
            body: {
              fromAccountId: `deposits:${pair.from_id}`,
              toAccountId: `deposits:${pair.to_id}`,
              amount: { amount: "0.01", currency: pair.currency },
              reference: "failover"
            }
          })
        ).then(() => new Promise((r) => setTimeout(r, 200)))
      )
    ])
    const events = await openEvents(stack.base, sessions[0]!.accessToken)
    const stopSimulator = await Effect.runPromise(Deferred.make<void>())
    const simulator = stack.runtime.runFork(Simulator.run({ rate: 20, stop: stopSimulator, seed: "failover" }))

    const stopLoad = async () => {
      if (!running) return
      running = false
      await load
      await Effect.runPromise(Deferred.succeed(stopSimulator, undefined))
      await Effect.runPromise(Fiber.join(simulator)).catch(() => undefined)
    }
    try {
      const firstOk = async (what: string, since: number, check: () => Promise<boolean>) => {
        await vi.waitFor(async () => expect(await check()).toBe(true), { timeout: 60_000, interval: 50 })
        return Date.now() - since
      }

      // ── 1. The master owning a logged-in customer's access token ──────────────────────────
      const victim = sessions[0]!
      const tokenKey = Identity.IdentityKeys.accessToken(Identity.Secrets.hashToken(victim.accessToken))
      const tokenMaster = await cluster().masterOf(tokenKey)
      await new Promise((r) => setTimeout(r, 1000)) // some load before the kill
      const killedAt = Date.now()
      await tokenMaster.kill()
      const edgeWindow = await firstOk(
        "the victim's token check",
        killedAt,
        async () => (await stack.call("GET", "/v1/session", { token: victim.accessToken })).status === 200
      )
      const loginWindow = await firstOk(
        "a login",
        killedAt,
        async () => (await login(users[0]!.username)).status === 200
      )
      await cluster().waitHealthy()
      await tokenMaster.restart()
      await vi.waitFor(async () => expect(await tokenMaster.role()).toBe("replica"), { timeout: 60_000, interval: 200 })

      // ── 2. The master owning a CDC stream the simulator writes to ─────────────────────────
      const streamKey = Keys.stream(Cdc.partition("deposits", 0).name)
      const newestId = async () => (await stack.redis.xRevRange(streamKey, "+", "-", { COUNT: 1 }))[0]?.id ?? "0-0"
      const streamMaster = await cluster().masterOf(streamKey)
      const cdcKilledAt = Date.now()
      await streamMaster.kill()
      await cluster().waitHealthy()
      // The connector confirms a batch to PostgreSQL only once a replica has it (WAIT 1): the
      // promoted replica has none until the old master is back as its replica, so the connector
      // waits (and loses nothing) until then.
      await streamMaster.restart()
      await vi.waitFor(async () => expect(await streamMaster.role()).toBe("replica"), {
        timeout: 60_000,
        interval: 200
      })
      const connectorWindow = await firstOk(
        "a new CDC entry",
        cdcKilledAt,
        async () => Number((await newestId().catch(() => "0-0")).split("-")[0]) > cdcKilledAt
      )
      await cluster().waitHealthy()

      // ── Stop the load ──────────────────────────────────────────────────────────────────────
      await new Promise((r) => setTimeout(r, 1000))
      await stopLoad()
      // The customer's SSE stream, opened before the kills, still delivers.
      const frame = await events.next(() => true, 15_000)
      events.close()

      // ── Then ───────────────────────────────────────────────────────────────────────────────
      const failed = seen.filter((s) => s.status !== 200 && s.status !== 202)
      const byStatus = new Map<number, number>()
      for (const s of seen) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1)
      console.log(
        `failover windows (kill → first 200): edge token check ${edgeWindow} ms, login ${loginWindow} ms, CDC connector ${connectorWindow} ms; ` +
          `requests ${seen.length}: ${[...byStatus].map(([status, n]) => `${status}×${n}`).join(", ")}`
      )
      // Never a 500 nor a wrong 401; whatever failed said "try again" with Retry-After: 503, or
      // 504 for a login whose reply did not come back in time (the request timed out at the edge).
      expect(failed.filter((s) => s.status === 500 || s.status === 401 || s.status === 0)).toEqual([])
      expect(failed.filter((s) => s.retryAfter === null)).toEqual([])
      expect(failed.filter((s) => s.status !== 503 && !(s.status === 504 && s.what === "login"))).toEqual([])
      expect(frame).toBeDefined()

      // Every login that answered 200 before the kills still works, and its refresh rotates.
      for (const s of sessions) {
        expect((await stack.call("GET", "/v1/session", { token: s.accessToken })).status).toBe(200)
        const refreshed = await stack.call("POST", "/v1/auth/refresh", { body: { refreshToken: s.refreshToken } })
        expect(refreshed.status).toBe(200)
        expect(refreshed.body.accessToken).not.toBe(s.accessToken)
      }
      // No change is missing from the dashboards.
      await vi.waitFor(async () => expect(await mismatches()).toEqual([]), { timeout: 120_000, interval: 1000 })
    } finally {
      await stopLoad()
    }
  }, 300_000)
})
