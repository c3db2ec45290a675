import { describe, expect, it } from "vitest"
import * as Secrets from "./Secrets.ts"

const keys = Secrets.deriveKeys(Secrets.randomKey())

describe("Secrets", () => {
  it("makes 256-bit tokens and stores only their SHA-256", () => {
    const token = Secrets.newToken()
    expect(Buffer.from(token, "base64url")).toHaveLength(32)
    expect(Secrets.isTokenShaped(token)).toBe(true)
    expect(Secrets.hashToken(token)).not.toContain(token)
    expect(Secrets.hashToken(token)).toBe(Secrets.hashToken(token))
    expect(Secrets.newToken()).not.toBe(token)
    for (const bad of ["", "short", `${token}x`, token.replace(/.$/, "!")])
      expect(Secrets.isTokenShaped(bad)).toBe(false)
  })

  it("opens a sealed password only with the same key and context", () => {
    const sealed = Secrets.seal(keys, "s3cret pässword", "login\nalice\nhash")
    expect(sealed).not.toContain("s3cret")
    expect(Secrets.open(keys, sealed, "login\nalice\nhash")).toBe("s3cret pässword")
    expect(Secrets.open(keys, sealed, "login\nmallory\nhash")).toBeUndefined()
    expect(Secrets.open(Secrets.deriveKeys(Secrets.randomKey()), sealed, "login\nalice\nhash")).toBeUndefined()
    const [v, iv, body, tag] = sealed.split(".")
    const flipped = Buffer.from(body!, "base64url")
    flipped[0] = flipped[0]! ^ 1
    expect(
      Secrets.open(keys, [v, iv, flipped.toString("base64url"), tag].join("."), "login\nalice\nhash")
    ).toBeUndefined()
    expect(Secrets.open(keys, "v1.garbage", "login\nalice\nhash")).toBeUndefined()
  })

  it("fingerprints usernames with a key, so they correlate without being readable", () => {
    const a = Secrets.fingerprint(keys, "username", "alice")
    expect(a).toBe(Secrets.fingerprint(keys, "username", "alice"))
    expect(a).not.toBe(Secrets.fingerprint(keys, "address", "alice"))
    expect(a).not.toBe(Secrets.fingerprint(Secrets.deriveKeys(Secrets.randomKey()), "username", "alice"))
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it("normalises usernames the way the customer master stores them", () => {
    expect(Secrets.normaliseUsername("  Alice ")).toBe("alice")
    expect(Secrets.normaliseUsername("e\u0301")).toBe("\u00e9")
  })

  it("reads a configured key only when it is 32 bytes", () => {
    const key = Secrets.randomKey()
    expect(Secrets.parseKey(key.toString("base64"))).toEqual(key)
    expect(Secrets.parseKey(key.subarray(0, 16).toString("base64"))).toBeUndefined()
  })
})
