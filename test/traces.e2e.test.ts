// Traces end to end: an in-process OTLP/HTTP receiver (POST /v1/traces, JSON) and the stack
// exporting to it (Tracing.ts), with a real SSE client on the customer's dashboard feed. A
// transfer POSTed with an inbound `traceparent` must give one trace, each span the child of the
// one before:
//   the caller's span → the edge's request span (Run.ts)
//   → the payments actor's span (across `payments.commands`, through the envelope's traceparent)
//   → PaymentsActor.handle → TransferBooking.book (the PostgreSQL booking, which writes its own
//     traceparent into the ledger rows it books: deposits.transactions.traceparent, migration 011)
//   → CdcConnector.publish (the connector reads that column as the change's trace, strips it
//     from the row, and names its own span in the CDC envelopes: cdc Translator.ts, StreamWriter.ts)
//   → DashboardProjector.apply → DashboardProjector.applyCustomer (the document write; its
//     DashboardChanged announcement carries the trace on)
//   → DashboardFeed.push (the edge hands the new document to the customer's open event stream).
// And the trace column is never data: not on the CDC stream's rows, not in the document.
import { Cdc } from "@bank/contracts"
import { openEvents } from "@bank/dashboard/testing"
import { Keys } from "@bank/platform"
import { randomUUID } from "node:crypto"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, describe, expect, it, vi } from "vitest"
import { useStack } from "./support/bankStack.ts"
import { PASSWORD, seed } from "./support/twoCustomers.ts"

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

const stack = useStack({ seed, waitForUser: "bob", everything: true, traces: { url, exportIntervalMs: 100 } })

describe("traces", () => {
  it("follows a transfer from the inbound traceparent through the edge, the payments actor, the booking, CDC and the dashboard projector to the SSE push", async () => {
    const { token } = await stack.login("alice", PASSWORD)
    // The dashboard is built from the CDC snapshot a moment after start.
    await vi.waitFor(
      async () => {
        const { body } = await stack.call("GET", "/v1/dashboard", { token })
        expect(body.accounts.map((a: any) => a.id)).toContain("deposits:102")
      },
      { timeout: 60_000, interval: 200 }
    )
    const events = await openEvents(stack.base, token)
    expect(events.status).toBe(200)
    await events.next((f) => f.event === "dashboard", 20_000)

    const traceId = randomUUID().replaceAll("-", "")
    const callerSpan = "a1b2c3d4e5f60718"
    const reference = `Traced ${randomUUID().slice(0, 8)}`
    const answer = await stack.call("POST", "/v1/transfers", {
      token,
      body: {
        fromAccountId: "deposits:101",
        toAccountId: "deposits:102",
        amount: { amount: "1.00", currency: "EUR" },
        reference
      },
      headers: { "Idempotency-Key": randomUUID(), traceparent: `00-${traceId}-${callerSpan}-01` }
    })
    expect(answer.status).toBe(202)
    // The SSE client receives the document that shows the transfer.
    const pushed = await events.next((f) => f.event === "dashboard" && (f.data ?? "").includes(reference), 30_000)
    events.close()

    const inTrace = () => spans.filter((s) => s.traceId === traceId)
    const named = (name: string) => inTrace().find((s) => s.name === name)
    const chain = [
      "DashboardFeed.push",
      "DashboardProjector.applyCustomer",
      "DashboardProjector.apply",
      "CdcConnector.publish",
      "TransferBooking.book",
      "PaymentsActor.handle",
      "payments payments.commands",
      "POST /v1/transfers"
    ]
    await vi.waitFor(() => expect(chain.filter((name) => named(name) === undefined)).toEqual([]), {
      timeout: 30_000,
      interval: 100
    })

    const edge = named("POST /v1/transfers")!
    expect(edge.parentSpanId).toBe(callerSpan)
    expect(named("payments payments.commands")!.parentSpanId).toBe(edge.spanId)
    const ancestry = (span: ReceivedSpan): Array<string> => {
      const parent = inTrace().find((s) => s.spanId === span.parentSpanId)
      return parent ? [parent.name, ...ancestry(parent)] : []
    }
    // The push of this trace: every span from the POST down, each the parent of the next.
    const push = inTrace().find((s) => s.name === "DashboardFeed.push")!
    expect([push.name, ...ancestry(push)]).toEqual(chain)
    // Nothing of this request started a trace of its own.
    expect(spans.filter((s) => s.name === "POST /v1/transfers" && s.traceId !== traceId)).toEqual([])

    // The trace column is not data: the pushed document and the CDC rows do not carry it, and
    // the CDC entries of the transfer name the connector's span as their trace context.
    expect(pushed.data).not.toContain("traceparent")
    const publish = named("CdcConnector.publish")!
    const entries = (
      await Promise.all(
        Cdc.streams("deposits", Cdc.defaultPartitions).map((spec) =>
          stack.redis.xRange(Keys.stream(spec.name), "-", "+")
        )
      )
    ).flat()
    const ofTransfer = entries.filter((e) => e.message.tp?.includes(publish.spanId))
    expect(ofTransfer.length).toBeGreaterThan(0)
    for (const e of ofTransfer) expect(e.message.tp).toBe(`00-${traceId}-${publish.spanId}-01`)
    for (const e of entries) expect(e.message.data).not.toContain("traceparent")
  }, 120_000)
})
