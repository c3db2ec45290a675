import { Option } from "effect"
import { describe, expect, it } from "vitest"
import * as AccountRef from "./AccountRef.ts"
import * as Cursor from "./Cursor.ts"
import { parseLimit } from "./Routes.ts"
import * as Transactions from "./Transactions.ts"

describe("Cursor", () => {
  it("is opaque text that leads back to its position on its own account", () => {
    const cursor = Cursor.encode({ account: "deposits:10", before: 41 })
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(Cursor.decode(cursor, "deposits:10")).toEqual(Option.some({ account: "deposits:10", before: 41 }))
  })

  it("is refused on another account, and when tampered with or made up", () => {
    const cursor = Cursor.encode({ account: "deposits:10", before: 41 })
    expect(Option.isNone(Cursor.decode(cursor, "deposits:11"))).toBe(true)
    expect(Option.isNone(Cursor.decode(cursor, "cards:10"))).toBe(true)
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
    for (const bad of [
      "",
      "not base64!",
      cursor.slice(0, -3),
      "x".repeat(300),
      forged({ v: 2, a: "deposits:10", b: 41 }),
      forged({ v: 1, a: "deposits:10", b: 0 }),
      forged({ v: 1, a: "deposits:10", b: 1.5 }),
      forged({ v: 1, a: "deposits:10", b: "41" }),
      forged([1, 2])
    ]) {
      expect(Option.isNone(Cursor.decode(bad, "deposits:10")), bad).toBe(true)
    }
  })
})

describe("transactions query parameters", () => {
  it("names accounts only by the API's one account id, <system>:<id>", () => {
    expect(AccountRef.parse("cards:7")).toMatchObject({
      ledger: { system: "cards", entries: "cards.transactions" },
      id: "7"
    })
    expect(AccountRef.format(AccountRef.parse("deposits:10")!)).toBe("deposits:10")
    for (const bad of ["", "0", "10", "deposits:", "loans:3", "deposits:01", "1;DROP", "99999999999999999999"]) {
      expect(AccountRef.parse(bad), bad).toBeUndefined()
    }
  })

  it("takes a limit from 1 to 100, 20 when absent", () => {
    expect(parseLimit(undefined)).toBe(20)
    expect(parseLimit("1")).toBe(1)
    expect(parseLimit("100")).toBe(100)
    for (const bad of ["0", "101", "-1", "2.5", "ten", "", "1e2"]) expect(parseLimit(bad), bad).toBeUndefined()
  })

  it("reads PostgreSQL's UTC timestamps, as CDC and our queries print them, into one ISO form", () => {
    expect(Transactions.isoMicros("2025-06-15 10:00:00.1234+00")).toBe("2025-06-15T10:00:00.123400Z")
    expect(Transactions.isoMicros("2025-06-15 10:00:00+00")).toBe("2025-06-15T10:00:00.000000Z")
    expect(Transactions.isoMicros("2025-06-15 10:00:00.000001+00")).toBe("2025-06-15T10:00:00.000001Z")
    expect(Transactions.isoMicros("2025-06-15 12:00:00+02")).toBeUndefined()
  })
})
