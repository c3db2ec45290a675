import { describe, expect, it } from "vitest"
import { randomHex, uuidv7 } from "./Ids.ts"

describe("uuidv7", () => {
  it("is a version 7, RFC 9562 variant UUID carrying the time it was made", () => {
    const before = Date.now()
    const id = uuidv7()
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const ms = parseInt(id.replace(/-/g, "").slice(0, 12), 16)
    expect(ms).toBeGreaterThanOrEqual(before)
    expect(ms).toBeLessThanOrEqual(Date.now())
  })

  it("never repeats, across many refills of the random pool", () => {
    const ids = Array.from({ length: 20_000 }, uuidv7)
    expect(new Set(ids).size).toBe(ids.length)
    expect(new Set(ids.map((id) => id.slice(14))).size).toBe(ids.length)
    expect(new Set(Array.from({ length: 5_000 }, () => randomHex(8))).size).toBe(5_000)
  })
})
