import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { hash, parse, verify } from "./PasswordHash.ts"

describe("PasswordHash", () => {
  it("stores scrypt's parameters with the hash and verifies only the right password", async () => {
    const encoded = await Effect.runPromise(hash("correct horse"))
    expect(encoded).toMatch(/^scrypt\$N=16384,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/)
    expect(parse(encoded)?.params).toEqual({ N: 16384, r: 8, p: 1, keylen: 32 })
    expect(await Effect.runPromise(verify("correct horse", encoded))).toBe(true)
    expect(await Effect.runPromise(verify("correct horse!", encoded))).toBe(false)
  })

  it("gives every hash its own salt unless one is given", async () => {
    const [a, b] = await Effect.runPromise(Effect.all([hash("same"), hash("same")]))
    expect(a).not.toBe(b)
    const salt = Buffer.alloc(16, 7)
    const params = { N: 1024, r: 8, p: 1, keylen: 32 }
    expect(await Effect.runPromise(hash("same", { salt, params }))).toBe(
      await Effect.runPromise(hash("same", { salt, params }))
    )
  })

  it("verifies a hash made with other parameters, and refuses a malformed one", async () => {
    const cheap = await Effect.runPromise(hash("pw", { params: { N: 1024, r: 4, p: 2, keylen: 16 } }))
    expect(await Effect.runPromise(verify("pw", cheap))).toBe(true)
    expect(await Effect.runPromise(verify("pw", "scrypt$N=1000,r=8,p=1$AAAA$AAAA"))).toBe(false)
    expect(await Effect.runPromise(verify("pw", "plain-text-password"))).toBe(false)
    // A cost no real hash has (2^30: 128 GiB of memory) is refused, not attempted.
    expect(await Effect.runPromise(verify("pw", cheap.replace("N=1024", "N=1073741824")))).toBe(false)
  })
})
