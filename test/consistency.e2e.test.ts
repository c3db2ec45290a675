// Read-your-writes end to end (docs/api.md): every write answers a Consistency-Token, and a read
// with it answers once the document shows the write — here a transfer between own accounts,
// read from the dashboard at once, with no polling; a profile change and session preferences
// likewise. A token that can never be satisfied gets 503 with Retry-After, never an older
// document. Also: a CORS preflight gets through before the token check.
import { ConsistencyToken } from "@bank/http"
import { randomUUID } from "node:crypto"
import { beforeAll, describe, expect, it, vi } from "vitest"
import { useStack } from "./support/bankStack.ts"
import { PASSWORD, seed, USER } from "./support/demoBank.ts"
import { validated } from "./support/validateResponses.ts"

const stack = useStack({ seed, waitForUser: USER, everything: true, corsOrigins: ["https://app.example"] })

let token = ""
let own: Array<{ id: string; balance: { amount: string; currency: string } }> = []

const cents = (amount: string) => BigInt(amount.replace(".", ""))

beforeAll(async () => {
  token = (await stack.login(USER, PASSWORD)).token
  // The dashboard is built from the CDC snapshot a moment after start.
  await vi.waitFor(
    async () => {
      const { body } = await stack.call("GET", "/v1/dashboard", { token })
      own = body.accounts.filter((a: any) => a.system === "deposits" && a.status === "open")
      const currency = own[own.length - 1]?.balance.currency
      own = own.filter((a) => a.balance.currency === currency)
      expect(own.length).toBeGreaterThanOrEqual(2)
    },
    { timeout: 60_000, interval: 200 }
  )
}, 120_000)

describe("read-your-writes", () => {
  it("shows a transfer between own accounts in the very next dashboard read with its token, both balances changed", async () => {
    const [from, to] = [own[0]!, own[own.length - 1]!]
    const amount = { amount: "1.25", currency: from.balance.currency }
    const sent = await stack.call("POST", "/v1/transfers", {
      token,
      body: { fromAccountId: from.id, toAccountId: to.id, amount, reference: "read your writes" },
      headers: { "Idempotency-Key": randomUUID() }
    })
    expect(sent.status).toBe(202)
    const consistency = sent.headers.get("consistency-token")
    expect(consistency).toMatch(/^[A-Za-z0-9_-]+$/)

    // One read, right away: it answers only once the transfer is in the document.
    const read = await stack.call("GET", "/v1/dashboard", { token, headers: { "Consistency-Token": consistency! } })
    expect(read.status).toBe(200)
    const balance = (id: string) => read.body.accounts.find((a: any) => a.id === id).balance.amount as string
    expect(cents(balance(from.id))).toBe(cents(from.balance.amount) - 125n)
    expect(cents(balance(to.id))).toBe(cents(to.balance.amount) + 125n)
    const status = (await stack.call("GET", `/v1/transfers/${sent.body.transferId}`, { token })).body
    expect(status).toMatchObject({ status: "booked", debitEntryNo: expect.any(Number) })
    expect(read.body.accounts.find((a: any) => a.id === from.id).lastEntryNo).toBeGreaterThanOrEqual(
      status.debitEntryNo
    )
    expect(
      read.body.latestTransactions.filter((t: any) => t.description === "read your writes").map((t: any) => t.amount)
    ).toEqual(
      expect.arrayContaining([
        { amount: "-1.25", currency: amount.currency },
        { amount: "1.25", currency: amount.currency }
      ])
    )
    // The same token on a document the transfer does not touch: answered at once.
    expect(
      (await stack.call("GET", "/v1/profile", { token, headers: { "Consistency-Token": consistency! } })).status
    ).toBe(200)
  })

  it("shows a profile change and new session preferences in the next read with their tokens", async () => {
    const language =
      (await stack.call("GET", "/v1/profile?fields=preferences", { token })).body.preferences?.language === "nl"
        ? "fr"
        : "nl"
    const city = `Gent ${Date.now() % 1000}`
    const patched = await stack.call("PATCH", "/v1/profile", {
      token,
      body: { preferences: { language }, address: { city } }
    })
    expect(patched.status).toBe(202)
    const profile = await stack.call("GET", "/v1/profile", {
      token,
      headers: { "Consistency-Token": patched.headers.get("consistency-token")! }
    })
    expect(profile.status).toBe(200)
    expect(profile.body).toMatchObject({ address: { city }, preferences: { language } })

    const theme =
      (await stack.call("GET", "/v1/session", { token })).body.preferences.theme === "dark" ? "light" : "dark"
    const prefs = await stack.call("PATCH", "/v1/session/preferences", { token, body: { theme } })
    expect(prefs.status).toBe(200)
    const session = await stack.call("GET", "/v1/session", {
      token,
      headers: { "Consistency-Token": prefs.headers.get("consistency-token")! }
    })
    expect(session.body.preferences.theme).toBe(theme)
  })

  it("answers 503 with Retry-After rather than a document without the write, and 400 to a token it never issued", async () => {
    const never = ConsistencyToken.encode({ k: "transfer", transferId: randomUUID() })
    const started = Date.now()
    const waited = await stack.call("GET", "/v1/dashboard", { token, headers: { "Consistency-Token": never } })
    expect(waited.status).toBe(503)
    expect(waited.headers.get("retry-after")).toBe("1")
    expect(waited.body.type).toBe("/docs/problems/not-yet-consistent")
    expect(Date.now() - started).toBeGreaterThanOrEqual(ConsistencyToken.defaultWaitMs - 100)
    for (const forged of ["not a token!", Buffer.from('{"v":2}').toString("base64url")]) {
      const refused = await stack.call("GET", "/v1/dashboard", { token, headers: { "Consistency-Token": forged } })
      expect(refused.status).toBe(400)
      expect(refused.body.type).toBe("/docs/problems/invalid-consistency-token")
    }
  })
})

describe("the API for apps served elsewhere", () => {
  it("answers a CORS preflight without a token, and exposes the consistency token", async () => {
    const preflight = await fetch(`${stack.base}/v1/transfers`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"
      }
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example")
    const read = await fetch(`${stack.base}/v1/dashboard`, {
      headers: { Origin: "https://app.example", Authorization: `Bearer ${token}` }
    })
    expect(read.headers.get("access-control-expose-headers")).toContain("Consistency-Token")
    // Every answer above was checked against /openapi.json by the e2e setup.
    expect(validated.count).toBeGreaterThan(10)
  })
})
