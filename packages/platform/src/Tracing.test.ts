// The W3C traceparent ↔ span mapping the edge, the envelopes and the actors use (Tracing.ts).
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import * as Tracing from "./Tracing.ts"

describe("Tracing", () => {
  it("takes an inbound traceparent as the parent of local spans, and gives it back from inside them", () => {
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    const parent = Tracing.parentOf(traceparent)
    expect(parent).toMatchObject({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      sampled: true
    })
    const inside = Effect.runSync(Tracing.fromCurrentSpan.pipe(Effect.withSpan("child", { parent: parent! })))
    expect(inside?.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
    expect(inside?.traceparent).not.toBe(traceparent)
  })

  it("ignores a missing or malformed traceparent (a new trace starts instead)", () => {
    for (const bad of [
      undefined,
      null,
      "",
      "garbage",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"
    ]) {
      expect(Tracing.parentOf(bad)).toBeUndefined()
    }
  })

  it("has no trace context outside any span", () => {
    expect(Effect.runSync(Tracing.fromCurrentSpan)).toBeUndefined()
  })
})
