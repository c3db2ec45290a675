// Security end to end, tried from outside as an attacker or a bank operator would: live event
// streams end with their session and token; the customer master (PostgreSQL, through CDC) ends
// sessions; step-up before money leaves for someone else; no secret on any stream. One stack
// (bankStack) with every route; each test uses its own customers so they do not interfere.
import { DashboardFeed } from "@bank/dashboard"
import * as Identity from "@bank/identity"
import { DocumentStore, Keys, PasswordHash, StreamLog } from "@bank/platform"
import { Cdc } from "@bank/contracts"
import { ColumnFilter, Scrub } from "@bank/cdc"
import { type EventStream, openEvents } from "@bank/dashboard/testing"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import pg from "pg"
import { describe, expect, it, vi } from "vitest"
import { useStack } from "./support/bankStack.ts"

const PASSWORD = "correct horse battery"
const CUSTOMERS = 12
const name = (i: number) => `user${i}`

// Customer i has EUR account i*100+1 (1,000.00) and i*100+2 (50.00); customer 12 also has a
// USD account 1203 and a blocked EUR account 1204.
const seed = async (db: pg.Client) => {
  const hash = await Effect.runPromise(
    PasswordHash.hash(PASSWORD, { params: { ...PasswordHash.defaultParams, N: 1024 } })
  )
  await db.query(
    `INSERT INTO customer.customers (customer_id, given_name, family_name, email, address_line1, postal_code, city, country, date_of_birth, segment, roles)
     VALUES (90, 'Bank', 'Operations', 'ops@example.com', '1 Main St', '1000', 'Brussels', 'BE', '1970-01-01', 'business', '{admin}')`
  )
  await db.query("INSERT INTO customer.credentials (customer_id, username, password_hash) VALUES (90, 'admin', $1)", [
    hash
  ])
  for (let i = 1; i <= CUSTOMERS; i++) {
    await db.query(
      `INSERT INTO customer.customers (customer_id, given_name, family_name, email, address_line1, postal_code, city, country, date_of_birth, segment)
       VALUES ($1, $2, 'Test', $3, '1 Main St', '1000', 'Brussels', 'BE', '1980-01-01', 'retail')`,
      [i, name(i), `${name(i)}@example.com`]
    )
    await db.query("INSERT INTO customer.credentials (customer_id, username, password_hash) VALUES ($1, $2, $3)", [
      i,
      name(i),
      hash
    ])
    const accounts: Array<readonly [number, number, string, string]> = [
      [1, 100_000, "EUR", "open"],
      [2, 5_000, "EUR", "open"]
    ]
    if (i === 12) accounts.push([3, 0, "USD", "open"], [4, 0, "EUR", "blocked"])
    for (const [n, balance, currency, status] of accounts) {
      await db.query(
        `INSERT INTO deposits.accounts (account_id, customer_id, iban, product, name, currency, balance, available_balance, last_entry_no, status, opened_on)
         VALUES ($1, $2, $3, 'current', 'Account', $5, $4, $4, 0, $6, '2024-01-02')`,
        [i * 100 + n, i, `BE00${String(i * 100 + n).padStart(12, "0")}`, balance, currency, status]
      )
    }
  }
}

const stack = useStack({
  seed,
  waitForUser: name(CUSTOMERS),
  allRoutes: true,
  debugHeaders: false,
  identity: { maxSessions: 10, maxStreamsPerSession: 3, usernameRateLimit: 1000, addressRateLimit: 1000 }
})

// Everything the process prints, and every token handed out: none may show up anywhere.
const printed: Array<string> = []
for (const out of [process.stdout, process.stderr]) {
  const write = out.write.bind(out) as (...args: Array<unknown>) => boolean
  out.write = ((chunk: unknown, ...rest: Array<unknown>) => {
    printed.push(String(chunk))
    return write(chunk, ...rest)
  }) as typeof out.write
}
const issued: Array<string> = []

const loggedIn = async (username: string, password = PASSWORD) => {
  const answer = await stack.call("POST", "/v1/auth/login", { body: { username, password } })
  expect(answer.status, JSON.stringify(answer.body)).toBe(200)
  issued.push(answer.body.accessToken, answer.body.refreshToken)
  return answer.body as { accessToken: string; refreshToken: string; sessionId: string; customerId: string }
}

/** The final `end` event of a stream, and that the stream then closes. */
const endOf = async (events: EventStream) => {
  const frame = await events.next((f) => f.event === "end", 10_000)
  await expect(events.next(() => true, 10_000)).rejects.toThrow("the event stream ended")
  return JSON.parse(frame.data!) as { reason: string }
}

const opened = async (token: string, lastEventId?: string) => {
  const events = await openEvents(stack.base, token, lastEventId)
  expect(events.status).toBe(200)
  await events.next((f) => f.event === "dashboard", 10_000)
  return events
}

describe("live event streams end with their session", () => {
  it("ends an open stream on logout, with the reason", async () => {
    const me = await loggedIn(name(1))
    const events = await opened(me.accessToken)
    expect((await stack.call("POST", "/v1/auth/logout", { token: me.accessToken })).status).toBe(204)
    expect((await endOf(events)).reason).toBe("logout")
  })

  it("ends it when another session revokes this one, and on log out everywhere", async () => {
    const phone = await loggedIn(name(2))
    const laptop = await loggedIn(name(2))
    const tablet = await loggedIn(name(2))
    const onPhone = await opened(phone.accessToken)
    const onTablet = await opened(tablet.accessToken)
    expect((await stack.call("DELETE", `/v1/sessions/${phone.sessionId}`, { token: laptop.accessToken })).status).toBe(
      204
    )
    expect((await endOf(onPhone)).reason).toBe("revoked")
    expect((await stack.call("DELETE", "/v1/sessions", { token: laptop.accessToken })).status).toBe(204)
    expect((await endOf(onTablet)).reason).toBe("logged-out-everywhere")
  })

  it("ends it when its access token expires, and when a refresh replaces the token", async () => {
    const me = await loggedIn(name(3))
    const events = await opened(me.accessToken)
    // The token's record says when it expires; make that now (as time passing would).
    const key = Identity.IdentityKeys.accessToken(Identity.Secrets.hashToken(me.accessToken))
    await stack.redis.hSet(key, "x", String(Date.now() + 300))
    await stack.redis.pExpire(key, 300)
    expect((await endOf(events)).reason).toBe("token-expired")

    const again = await loggedIn(name(3))
    const second = await opened(again.accessToken)
    const refreshed = await stack.call("POST", "/v1/auth/refresh", { body: { refreshToken: again.refreshToken } })
    expect(refreshed.status).toBe(200)
    expect((await endOf(second)).reason).toBe("token-refreshed")
  })

  it("answers HEAD without opening a subscription", async () => {
    const me = await loggedIn(name(4))
    const size = () => stack.runtime.runPromise(DashboardFeed.DashboardFeed.use((feed) => feed.size))
    const before = await size()
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${stack.base}/v1/dashboard/events`, {
        method: "HEAD",
        headers: { Authorization: `Bearer ${me.accessToken}` }
      })
      expect(response.status).toBe(200)
      expect(response.headers.get("content-type")).toContain("text/event-stream")
    }
    expect(await size()).toBe(before)
  })

  it("keeps at most the configured streams per session: a new one closes the oldest", async () => {
    const me = await loggedIn(name(5))
    const first = await opened(me.accessToken)
    const others = [await opened(me.accessToken), await opened(me.accessToken)]
    const fourth = await opened(me.accessToken)
    expect((await endOf(first)).reason).toBe("superseded")
    for (const e of [...others, fourth]) e.close()
  })

  it("refuses a Last-Event-ID that Redis would refuse, with 400", async () => {
    const me = await loggedIn(name(6))
    for (const id of ["99999999999999999999-0", "18446744073709551616-0", "1-18446744073709551616", "abc", "1-2-3"]) {
      const response = await fetch(`${stack.base}/v1/dashboard/events`, {
        headers: { Authorization: `Bearer ${me.accessToken}`, "Last-Event-ID": id }
      })
      expect(response.status, id).toBe(400)
      expect(response.headers.get("content-type")).toBe("application/problem+json")
      expect(((await response.json()) as { type: string }).type).toBe("/docs/problems/invalid-last-event-id")
    }
    // The largest id Redis has: accepted (nothing can have happened after it).
    const largest = await openEvents(stack.base, me.accessToken, "18446744073709551615-18446744073709551615")
    expect(largest.status).toBe(200)
    await largest.next((f) => f.event === "ready", 10_000)
    largest.close()
  })
})

const auditOf = async (customerId: string) =>
  (await stack.redis.xRange(Keys.stream("identity.audit"), "-", "+"))
    .map((e) => JSON.parse(e.message.data!) as Record<string, any>)
    .filter((e) => e.customerId === customerId)
const sessionEventsOf = async (customerId: string) =>
  (await stack.redis.xRange(Keys.stream("session.events"), "-", "+"))
    .map((e) => JSON.parse(e.message.data!) as Record<string, any>)
    .filter((e) => e.customerId === customerId)
const revokedFor = async (customerId: string, reason: string) =>
  (await auditOf(customerId))
    .filter((e) => e._tag === "SessionRevoked" && e.reason === reason)
    .map((e) => e.sessionId)
    .sort()

describe("the customer master drives access", () => {
  const endsEverySession = async (
    customer: number,
    change: string,
    reason: string,
    streamReason: string,
    username = name(customer)
  ) => {
    const phone = await loggedIn(username)
    const laptop = await loggedIn(username)
    const events = await opened(phone.accessToken)
    await stack.db.query(change, [customer])
    expect((await endOf(events)).reason).toBe(streamReason)
    expect((await stack.call("GET", "/v1/session", { token: laptop.accessToken })).status).toBe(401)
    await vi.waitFor(
      async () =>
        expect(await revokedFor(String(customer), reason)).toEqual([phone.sessionId, laptop.sessionId].sort()),
      { timeout: 10_000 }
    )
  }

  it("ends every session when the bank disables the customer, audited with the reason", () =>
    endsEverySession(
      7,
      "UPDATE customer.credentials SET status = 'disabled' WHERE customer_id = $1",
      "AccountDisabled",
      "account-disabled"
    ))

  it("ends every session when the bank locks the customer", () =>
    endsEverySession(
      8,
      "UPDATE customer.credentials SET status = 'locked', locked_until = now() + interval '1 hour' WHERE customer_id = $1",
      "AccountLocked",
      "account-locked"
    ))

  it("ends every session when the password changes; only the new one logs in", async () => {
    const hash = await Effect.runPromise(
      PasswordHash.hash("a new password", { params: { ...PasswordHash.defaultParams, N: 1024 } })
    )
    await endsEverySession(
      9,
      `UPDATE customer.credentials SET password_hash = '${hash}' WHERE customer_id = $1`,
      "CredentialChanged",
      "credential-changed"
    )
    expect(
      (await stack.call("POST", "/v1/auth/login", { body: { username: name(9), password: PASSWORD } })).status
    ).toBe(401)
    expect(
      (await stack.call("POST", "/v1/auth/login", { body: { username: name(9), password: "a new password" } })).status
    ).toBe(200)
  })

  it("ends every session when the customer is deleted", async () => {
    const hash = await Effect.runPromise(
      PasswordHash.hash(PASSWORD, { params: { ...PasswordHash.defaultParams, N: 1024 } })
    )
    await stack.db.query(
      `INSERT INTO customer.customers (customer_id, given_name, family_name, email, address_line1, postal_code, city, country, date_of_birth, segment)
       VALUES (60, 'Gone', 'Test', 'gone@example.com', '1 Main St', '1000', 'Brussels', 'BE', '1980-01-01', 'retail')`
    )
    await stack.db.query(
      "INSERT INTO customer.credentials (customer_id, username, password_hash) VALUES (60, 'gone60', $1)",
      [hash]
    )
    await vi.waitFor(async () => expect(await stack.redis.exists(Identity.IdentityKeys.loginName("gone60"))).toBe(1), {
      timeout: 10_000
    })
    await endsEverySession(
      60,
      "DELETE FROM customer.customers WHERE customer_id = $1",
      "AccountDeleted",
      "account-deleted",
      "gone60"
    )
  })

  it("applies a role change to live sessions", async () => {
    const me = await loggedIn(name(10))
    await stack.db.query("UPDATE customer.customers SET roles = '{customer,premium}' WHERE customer_id = 10")
    const key = Identity.IdentityKeys.accessToken(Identity.Secrets.hashToken(me.accessToken))
    await vi.waitFor(async () => expect(await stack.redis.hGet(key, "r")).toBe("customer,premium"), { timeout: 10_000 })
    expect((await stack.call("GET", "/v1/session", { token: me.accessToken })).status).toBe(200)
  })

  it("says when a session expired: a SessionEnded Expired event, audited, and its stream told", async () => {
    const me = await loggedIn(name(11))
    const events = await opened(me.accessToken)
    // Opening the stream was activity: once the session projector slid the deadline for it...
    const document = () =>
      stack.runtime.runPromise(
        DocumentStore.DocumentStore.use((s) => s.getRaw(`{c:11}:doc:session:${me.sessionId}`, "$.recentActions"))
      )
    await vi.waitFor(async () => expect(JSON.stringify(await document())).toContain("/v1/dashboard/events"), {
      timeout: 10_000
    })
    // ...let the session's idle deadline pass, as time would.
    const soon = String(Date.now() + 200)
    await stack.redis.zAdd(`{c:11}:sessions`, { score: Number(soon), value: me.sessionId })
    await stack.redis.zAdd(Identity.SessionExpiry.key, { score: Number(soon), value: `11 ${me.sessionId}` })
    expect((await endOf(events)).reason).toBe("session-expired")
    await vi.waitFor(
      async () => {
        expect(
          (await sessionEventsOf("11"))
            .filter((e) => e._tag === "SessionEnded" && e.reason === "Expired")
            .map((e) => e.sessionId)
        ).toEqual([me.sessionId])
        expect(await revokedFor("11", "Expired")).toEqual([me.sessionId])
      },
      { timeout: 10_000 }
    )
  })
})

describe("step-up before money leaves for someone else, and before contact changes", () => {
  /** As if the login were `minutes` ago: the token record's authentication time. */
  const authenticatedAgo = (token: string, minutes: number) =>
    stack.redis.hSet(
      Identity.IdentityKeys.accessToken(Identity.Secrets.hashToken(token)),
      "a",
      String(Date.now() - minutes * 60_000)
    )
  const transfer = (token: string, from: number, to: number, amount: string) =>
    stack.call("POST", "/v1/transfers", {
      token,
      headers: { "Idempotency-Key": randomUUID() },
      body: {
        fromAccountId: `deposits:${from}`,
        toAccountId: `deposits:${to}`,
        amount: { amount, currency: "EUR" },
        reference: "test"
      }
    })
  const commands = () => stack.redis.xLen(Keys.stream("payments.commands"))

  it("asks for a step-up above 30.00 to another customer's account, publishing nothing, and lets it through after", async () => {
    const me = await loggedIn(name(4))
    await authenticatedAgo(me.accessToken, 10)
    const before = await commands()
    const refused = await transfer(me.accessToken, 401, 1101, "30.01")
    expect(refused.status).toBe(403)
    expect(refused.headers.get("content-type")).toBe("application/problem+json")
    expect(refused.body.type).toBe("/docs/problems/step-up-required")
    expect(refused.body.stepUp.href).toBe("/v1/auth/step-up")
    expect(await commands()).toBe(before)
    // At the limit, and between the customer's own accounts, no step-up.
    expect((await transfer(me.accessToken, 401, 1101, "30.00")).status).toBe(202)
    expect((await transfer(me.accessToken, 401, 402, "500.00")).status).toBe(202)

    const wrong = await stack.call("POST", "/v1/auth/step-up", { token: me.accessToken, body: { password: "not it" } })
    expect(wrong.status).toBe(403)
    expect(wrong.body.type).toBe("/docs/problems/step-up-failed")
    const stepped = await stack.call("POST", "/v1/auth/step-up", {
      token: me.accessToken,
      body: { password: PASSWORD }
    })
    expect(stepped.status).toBe(200)
    expect((await transfer(me.accessToken, 401, 1101, "30.01")).status).toBe(202)
    const audit = (await auditOf("4")).map((e) => e._tag)
    expect(audit).toContain("StepUpFailed")
    expect(audit).toContain("StepUpSucceeded")
  })

  it("asks for a step-up before an e-mail or phone change, not an address change", async () => {
    const me = await loggedIn(name(4))
    await authenticatedAgo(me.accessToken, 10)
    const email = await stack.call("PATCH", "/v1/profile", {
      token: me.accessToken,
      body: { email: "new4@example.com" }
    })
    expect(email.status).toBe(403)
    expect(email.body.type).toBe("/docs/problems/step-up-required")
    expect(
      (await stack.call("PATCH", "/v1/profile", { token: me.accessToken, body: { phone: "+32470000004" } })).status
    ).toBe(403)
    expect(
      (await stack.call("PATCH", "/v1/profile", { token: me.accessToken, body: { address: { city: "Ghent" } } })).status
    ).toBe(202)
  })
})

describe("input and response hygiene", () => {
  const raw = (method: string, path: string, token: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${stack.base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
      body
    })
  const lengths = async () => [
    await stack.redis.xLen(Keys.stream("payments.commands")),
    await stack.redis.xLen(Keys.stream("profile.commands"))
  ]

  it("refuses duplicate keys naming the key, and non-UTF-8 charsets, storing nothing", async () => {
    const me = await loggedIn(name(3))
    const before = await lengths()
    const duplicated = await raw(
      "POST",
      "/v1/transfers",
      me.accessToken,
      '{"fromAccountId":"deposits:301","toAccountId":"deposits:302","amount":{"amount":"0.01","currency":"EUR"},"amount":{"amount":"500.00","currency":"EUR"},"reference":"x"}',
      { "Idempotency-Key": randomUUID() }
    )
    expect(duplicated.status).toBe(400)
    const problem = (await duplicated.json()) as { type: string; errors: Array<{ path: string }> }
    expect(problem.type).toBe("/docs/problems/duplicate-key")
    expect(problem.errors[0]!.path).toBe("/amount")
    for (const charset of ["utf-16", "iso-8859-1", '"utf-32"']) {
      const answer = await raw("PATCH", "/v1/profile", me.accessToken, '{"address":{"city":"Liège"}}', {
        "Content-Type": `application/json; charset=${charset}`
      })
      expect(answer.status, charset).toBe(415)
    }
    expect(
      (
        await raw("PATCH", "/v1/profile", me.accessToken, '{"address":{"city":"Liège"}}', {
          "Content-Type": "application/json; charset=UTF-8"
        })
      ).status
    ).toBe(202)
    expect((await lengths())[0]).toBe(before[0])
  })

  it("rejects a profile change that cannot be stored, naming the field, instead of losing it", async () => {
    const me = await loggedIn(name(3))
    const answer = await stack.call("PATCH", "/v1/profile", {
      token: me.accessToken,
      body: { address: { city: "Ghent\u0000" } }
    })
    expect(answer.status).toBe(400)
    expect(answer.body.errors.map((e: { path: string }) => e.path)).toEqual(["/address/city"])
  })

  it("rejects another customer's unusable account exactly like a missing one", async () => {
    const me = await loggedIn(name(3))
    const reasons: Array<string> = []
    for (const to of [1203, 1204, 999_999]) {
      const sent = await stack.call("POST", "/v1/transfers", {
        token: me.accessToken,
        headers: { "Idempotency-Key": randomUUID() },
        body: {
          fromAccountId: "deposits:301",
          toAccountId: `deposits:${to}`,
          amount: { amount: "1.00", currency: "EUR" },
          reference: "probe"
        }
      })
      expect(sent.status).toBe(202)
      await vi.waitFor(
        async () => {
          const status = await stack.call("GET", `/v1/transfers/${sent.body.transferId}`, { token: me.accessToken })
          expect(status.body.status).toBe("rejected")
          reasons.push(status.body.reason)
        },
        { timeout: 15_000 }
      )
    }
    expect(reasons).toEqual(["ToAccountNotFound", "ToAccountNotFound", "ToAccountNotFound"])
  })

  it("marks every authenticated answer no-store, problems included, and sends the security headers", async () => {
    const me = await loggedIn(name(3))
    const answers = [
      await raw("PATCH", "/v1/profile", me.accessToken, '{"address":{"city":"Namur"}}'),
      await raw("PATCH", "/v1/profile", me.accessToken, "{"),
      await fetch(`${stack.base}/v1/nowhere`, { headers: { Authorization: `Bearer ${me.accessToken}` } }),
      await fetch(`${stack.base}/v1/session`, { headers: { Authorization: "Bearer forged" } })
    ]
    for (const answer of answers) {
      expect(answer.headers.get("cache-control"), String(answer.status)).toContain("no-store")
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff")
      expect(answer.headers.get("referrer-policy")).toBe("no-referrer")
      expect(answer.headers.get("strict-transport-security")).toBeNull()
    }
    const behindTls = await fetch(`${stack.base}/healthz`, { headers: { "X-Forwarded-Proto": "https" } })
    expect(behindTls.headers.get("strict-transport-security")).toContain("max-age=")
    const page = await fetch(`${stack.base}/v1/accounts/deposits:301/transactions`, {
      headers: { Authorization: `Bearer ${me.accessToken}` }
    })
    expect(page.headers.get("x-data-source")).toBeNull()
  })
})

describe("the admin API", () => {
  it("lets an admin list and end a customer's sessions, unlock a username and read the audit trail, auditing every call", async () => {
    const admin = await loggedIn("admin")
    const phone = await loggedIn(name(5))
    const laptop = await loggedIn(name(5))
    const events = await opened(phone.accessToken)

    const listed = await stack.call("GET", "/v1/admin/customers/5/sessions", { token: admin.accessToken })
    expect(listed.status).toBe(200)
    expect(listed.body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual(
      expect.arrayContaining([phone.sessionId, laptop.sessionId])
    )

    expect(
      (await stack.call("DELETE", `/v1/admin/customers/5/sessions/${phone.sessionId}`, { token: admin.accessToken }))
        .status
    ).toBe(204)
    expect((await endOf(events)).reason).toBe("admin-revoked")
    const all = await stack.call("DELETE", "/v1/admin/customers/5/sessions", { token: admin.accessToken })
    expect(all.status).toBe(200)
    expect((await stack.call("GET", "/v1/session", { token: laptop.accessToken })).status).toBe(401)

    for (let i = 0; i < 6; i++)
      await stack.call("POST", "/v1/auth/login", { body: { username: name(6), password: "wrong" } })
    expect(
      (await stack.call("POST", "/v1/auth/login", { body: { username: name(6), password: PASSWORD } })).status
    ).toBe(429)
    const unlocked = await stack.call("POST", `/v1/admin/lockouts/${name(6)}/unlock`, { token: admin.accessToken })
    expect(unlocked.body).toEqual({ wasLocked: true })
    expect(
      (await stack.call("POST", "/v1/auth/login", { body: { username: name(6), password: PASSWORD } })).status
    ).toBe(200)

    const trail = await stack.call("GET", "/v1/admin/customers/5/audit?limit=50", { token: admin.accessToken })
    expect(trail.status).toBe(200)
    expect(
      trail.body.events
        .filter((e: any) => e._tag === "SessionRevoked" && e.reason === "AdminRevoked")
        .map((e: any) => e.sessionId)
    ).toEqual(expect.arrayContaining([phone.sessionId, laptop.sessionId]))
    const actions = (await stack.redis.xRange(Keys.stream("identity.audit"), "-", "+"))
      .map((e) => JSON.parse(e.message.data!) as Record<string, any>)
      .filter((e) => e._tag === "AdminActionTaken" && e.byCustomerId === "90")
      .map((e) => e.action)
    expect(actions).toEqual(
      expect.arrayContaining([
        "GET /v1/admin/customers/:customerId/sessions",
        "DELETE /v1/admin/customers/:customerId/sessions/:sessionId",
        "DELETE /v1/admin/customers/:customerId/sessions",
        "POST /v1/admin/lockouts/:username/unlock",
        "GET /v1/admin/customers/:customerId/audit"
      ])
    )
  })

  it("answers a customer 403 on every admin route, changing nothing", async () => {
    const me = await loggedIn(name(5))
    for (const [method, path] of [
      ["GET", "/v1/admin/customers/6/sessions"],
      ["DELETE", "/v1/admin/customers/6/sessions"],
      ["POST", `/v1/admin/lockouts/${name(6)}/unlock`],
      ["GET", "/v1/admin/customers/6/audit"]
    ] as const) {
      const answer = await stack.call(method, path, { token: me.accessToken })
      expect(answer.status, path).toBe(403)
      expect(answer.body.type).toBe("/docs/problems/forbidden")
    }
  })
})

// Last: after every test above wrote what it wrote.
describe("no secret on any stream or log line", () => {
  it("removes what an older connector left on cdc.customer with the documented one-off", async () => {
    const legacy: Cdc.RowChanged = {
      _tag: "RowChanged",
      schema: "customer",
      table: "credentials",
      op: "update",
      key: { customer_id: "12" },
      new: {
        customer_id: "12",
        username: name(12),
        password_hash: "scrypt$N=1024,r=8,p=1$bGVnYWN5$bGVnYWN5",
        status: "active"
      },
      commitLsn: "0/1",
      seq: 0,
      commitTime: "2024-01-01 00:00:00+00",
      xid: 1
    }
    await stack.runtime.runPromise(
      StreamLog.StreamLog.use((log) => log.publish(Cdc.stream("customer"), { key: "12", payload: legacy })).pipe(
        Effect.provide(StreamLog.layer)
      )
    )
    const scrub = (apply: boolean) =>
      stack.runtime.runPromise(
        Scrub.scrub({
          rules: ColumnFilter.defaults,
          systems: Cdc.capturedSchemas,
          apply,
          ignoreGroups: ["identity.credentials"]
        })
      )
    expect((await scrub(false)).find((r) => r.stream === Keys.stream("cdc.customer"))?.found).toBe(1)
    await vi.waitFor(
      async () => {
        await scrub(true)
        expect((await scrub(false)).reduce((n, r) => n + r.found, 0)).toBe(0)
      },
      { timeout: 10_000 }
    )
  })

  it("holds no password hash, token or password outside identity's own stream", async () => {
    const hashes = (
      await stack.db.query<{ password_hash: string }>("SELECT password_hash FROM customer.credentials")
    ).rows.map((r) => r.password_hash)
    const secrets = [...hashes, ...issued, PASSWORD, "a new password"]
    const own = new Set([Keys.stream("cdc.identity"), Keys.deadLetter("cdc.identity")])
    const streams: Array<string> = []
    for await (const keys of stack.redis.scanIterator({ TYPE: "stream", COUNT: 1000 })) streams.push(...keys)
    expect(streams).toContain(Keys.stream("cdc.customer"))
    const leaks: Array<string> = []
    for (const key of streams.filter((k) => !own.has(k))) {
      for (const entry of await stack.redis.xRange(key, "-", "+")) {
        const text = JSON.stringify(entry.message)
        if (text.includes("scrypt$") || secrets.some((secret) => text.includes(secret)))
          leaks.push(`${key} ${entry.id}`)
      }
    }
    expect(leaks).toEqual([])
    // The private stream does hold them: that is where identity reads them from.
    expect(JSON.stringify(await stack.redis.xRange(Keys.stream("cdc.identity"), "-", "+"))).toContain("scrypt$")
    const log = printed.join("")
    expect(secrets.filter((secret) => log.includes(secret))).toEqual([])
    expect(log).not.toContain("scrypt$")
  })
})
