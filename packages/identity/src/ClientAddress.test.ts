import { describe, expect, it } from "vitest"
import { resolve } from "./ClientAddress.ts"

describe("ClientAddress.resolve", () => {
  it("uses the socket peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(resolve("203.0.113.9", "198.51.100.1", 0)).toBe("203.0.113.9")
  })

  it("takes the entry the trusted proxies wrote, not what the client prepended", () => {
    // client forged "1.1.1.1"; our one proxy appended the real peer 198.51.100.7
    expect(resolve("10.0.0.2", "1.1.1.1, 198.51.100.7", 1)).toBe("198.51.100.7")
    expect(resolve("10.0.0.2", "1.1.1.1, 198.51.100.7, 10.0.0.5", 2)).toBe("198.51.100.7")
    expect(resolve("10.0.0.2", "2001:db8::1", 1)).toBe("2001:db8::1")
  })

  it("falls back to the peer when the header is missing, too short or not an address", () => {
    expect(resolve("10.0.0.2", undefined, 1)).toBe("10.0.0.2")
    expect(resolve("10.0.0.2", "198.51.100.7", 2)).toBe("10.0.0.2")
    expect(resolve("10.0.0.2", "<script>", 1)).toBe("10.0.0.2")
    expect(resolve(undefined, undefined, 0)).toBe("unknown")
  })
})
