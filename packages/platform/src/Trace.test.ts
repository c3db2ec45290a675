import { describe, expect, it } from "vitest"
import * as Trace from "./Trace.ts"

describe("Trace", () => {
  it("starts valid W3C traces and keeps the trace id in children", () => {
    const root = Trace.root()
    expect(Trace.isValidTraceparent(root.traceparent)).toBe(true)
    const child = Trace.child({ ...root, tracestate: "bank=1" })
    expect(Trace.traceId(child)).toBe(Trace.traceId(root))
    expect(child.traceparent).not.toBe(root.traceparent)
    expect(child.tracestate).toBe("bank=1")
  })

  it("starts a new trace instead of propagating a malformed or all-zero parent", () => {
    for (const bad of [
      "nonsense",
      `00-${"0".repeat(32)}-${"1".repeat(16)}-01`,
      `00-${"a".repeat(32)}-${"0".repeat(16)}-01`
    ]) {
      const child = Trace.child({ traceparent: bad })
      expect(Trace.isValidTraceparent(child.traceparent)).toBe(true)
      expect(child.traceparent).not.toContain(bad.slice(3, 35))
    }
  })
})
