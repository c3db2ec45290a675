import { Option } from "effect"
import { describe, expect, it } from "vitest"
import { makeCoalescer } from "./AuthMiddleware.ts"
import { bearerToken } from "./TokenCheck.ts"
import { principalOf } from "./TokenStore.ts"

describe("bearerToken", () => {
  it("reads the token of a Bearer header, the scheme in any case", () => {
    expect(bearerToken("Bearer abc")).toBe("abc")
    expect(bearerToken("bearer  abc ")).toBe("abc")
    for (const header of [undefined, "", "Basic abc", "Bearer", "Bearer a b", "Bearerabc"])
      expect(bearerToken(header)).toBeUndefined()
  })
})

describe("TokenStore.principalOf", () => {
  it("reads a token record in RESP2 (flat list) and RESP3 (map) form", () => {
    const principal = { customerId: "7", sessionId: "s", roles: ["customer", "premium"] }
    expect(principalOf(["c", "7", "s", "s", "r", "customer,premium"])).toEqual(Option.some(principal))
    expect(principalOf({ c: "7", s: "s", r: "customer,premium" })).toEqual(Option.some(principal))
  })

  it("refuses a missing, partial or expired record", () => {
    for (const fields of [null, [], {}, ["c", "7"], { s: "s" }]) expect(principalOf(fields)).toEqual(Option.none())
    expect(principalOf({ c: "7", s: "s", x: "1000" }, 999)._tag).toBe("Some")
    expect(principalOf(["c", "7", "s", "s", "x", "1000"], 1000)).toEqual(Option.none())
  })
})

describe("activity coalescing", () => {
  it("records an action once per window, and again after it", () => {
    const shouldRecord = makeCoalescer(1000)
    expect(shouldRecord("s1 GET /v1/session", 0)).toBe(true)
    expect(shouldRecord("s1 GET /v1/session", 999)).toBe(false)
    expect(shouldRecord("s2 GET /v1/session", 999)).toBe(true)
    expect(shouldRecord("s1 GET /v1/session", 1000)).toBe(true)
  })

  it("stays bounded, forgetting the oldest entries", () => {
    const shouldRecord = makeCoalescer(1000, 2)
    shouldRecord("a", 0)
    shouldRecord("b", 0)
    shouldRecord("c", 0)
    expect(shouldRecord("a", 1)).toBe(true)
    expect(shouldRecord("c", 1)).toBe(false)
  })

  it("records everything with a zero window", () => {
    const shouldRecord = makeCoalescer(0)
    expect(shouldRecord("a", 0) && shouldRecord("a", 0)).toBe(true)
  })
})
