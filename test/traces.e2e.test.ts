// Traces end to end: an in-process OTLP/HTTP receiver (POST /v1/traces, JSON) and the stack
// exporting to it (Tracing.ts). A transfer POSTed with an inbound `traceparent` must give one
// trace: the edge's request span is a child of the caller's span, the payments actor's span a
// child of the edge's (across `payments.commands`, through the envelope's traceparent), and the
// PostgreSQL booking (TransferBooking.book) a child of the actor's.
// Not covered yet: the CDC hop to the dashboard projector's document write (the connector reads
// rows from PostgreSQL, not envelopes; the design is for the payments actor to write its
// traceparent into the transfer row for the connector to forward) and the SSE push.
import { PasswordHash } from "@bank/platform"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import type pg from "pg"
import { afterAll, describe, expect, it, vi } from "vitest"
import { useStack } from "./support/bankStack.ts"

const PASSWORD = "correct horse battery"

interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
}

// The receiver: every span of every POST /v1/traces it was sent.
const spans: Array<ReceivedSpan> = []
const receiver: Server = createServer((req, res) => {
  const chunks: Array<Buffer> = []
  req.on("data", (c: Buffer) => chunks.push(c))
  req.on("end", () => {
    if (req.method !== "POST" || req.url !== "/v1/traces") {
      res.writeHead(404).end()
      return
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"))
    for (const r of body.resourceSpans ?? []) for (const s of r.scopeSpans ?? []) spans.push(...s.spans)
    res.writeHead(200, { "Content-Type": "application/json" }).end("{}")
  })
})
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())))

const seed = async (db: pg.Client) => {
  const hash = await Effect.runPromise(
    PasswordHash.hash(PASSWORD, { params: { ...PasswordHash.defaultParams, N: 1024 } })
  )
  for (const [id, name] of [
    [1, "alice"],
    [2, "bob"]
  ] as const) {
    await db.query(
      `INSERT INTO customer.customers (customer_id, given_name, family_name, email, address_line1, postal_code, city, country, date_of_birth, segment)
       VALUES ($1, $2, 'Test', $3, '1 Main St', '1000', 'Brussels', 'BE', '1980-01-01', 'retail')`,
      [id, name, `${name}@example.com`]
    )
    await db.query("INSERT INTO customer.credentials (customer_id, username, password_hash) VALUES ($1, $2, $3)", [
      id,
      name,
      hash
    ])
  }
  for (const [id, customer] of [
    [101, 1],
    [201, 2]
  ] as const) {
    await db.query(
      `INSERT INTO deposits.accounts (account_id, customer_id, iban, product, name, currency, balance, available_balance, last_entry_no, status, opened_on)
       VALUES ($1, $2, $3, 'current', 'Account', 'EUR', 0, 0, 0, 'open', '2024-01-02')`,
      [id, customer, `BE00${String(id).padStart(12, "0")}`]
    )
  }
}

const stack = useStack({ seed, waitForUser: "bob", traces: { url, exportIntervalMs: 100 } })

describe("traces", () => {
  it("follows a transfer from the inbound traceparent through the edge, the payments actor and the PostgreSQL booking", async () => {
    const { token } = await stack.login("alice", PASSWORD)
    const traceId = randomUUID().replaceAll("-", "")
    const callerSpan = "a1b2c3d4e5f60718"
    const answer = await stack.call("POST", "/v1/transfers", {
      token,
      // Rejected for lack of funds, but decided and written all the same: the path is the same.
      body: {
        fromAccountId: "deposits:101",
        toAccountId: "deposits:201",
        amount: { amount: "1.00", currency: "EUR" },
        reference: "Traced"
      },
      headers: { "Idempotency-Key": randomUUID(), traceparent: `00-${traceId}-${callerSpan}-01` }
    })
    expect(answer.status).toBe(202)

    const inTrace = () => spans.filter((s) => s.traceId === traceId)
    const named = (name: string) => inTrace().find((s) => s.name === name)
    await vi.waitFor(
      () => {
        expect(named("POST /v1/transfers")).toBeDefined()
        expect(named("payments payments.commands")).toBeDefined()
        expect(named("TransferBooking.book")).toBeDefined()
      },
      { timeout: 30_000, interval: 100 }
    )

    const edge = named("POST /v1/transfers")!
    const actor = named("payments payments.commands")!
    const booking = named("TransferBooking.book")!
    expect(edge.parentSpanId).toBe(callerSpan)
    expect(actor.parentSpanId).toBe(edge.spanId)
    // The booking runs inside the handler's own span (PaymentsActor.handle), under the actor's.
    const ancestry = (span: ReceivedSpan): Array<string> => {
      const parent = inTrace().find((s) => s.spanId === span.parentSpanId)
      return parent ? [parent.name, ...ancestry(parent)] : []
    }
    expect(ancestry(booking)).toEqual(["PaymentsActor.handle", "payments payments.commands", "POST /v1/transfers"])
    // Nothing of this request started a trace of its own.
    expect(spans.filter((s) => s.name === "POST /v1/transfers" && s.traceId !== traceId)).toEqual([])
  }, 60_000)
})
