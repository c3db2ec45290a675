import { describe, expect, it } from "vitest"
import * as Keys from "./Keys.ts"

// The slot Redis Cluster would use: only the part inside the first {...} counts.
const hashTag = (key: string) => {
  const open = key.indexOf("{")
  const close = key.indexOf("}", open + 1)
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key
}

describe("Keys", () => {
  it("keeps everything of one customer in one hash slot", () => {
    const c = Keys.customer("42")
    const keys = [
      c.document("dashboard"),
      c.document("profile"),
      c.applied("dashboard"),
      c.key("sessions"),
      Keys.once(c.tag, "payments", "m-1")
    ]
    expect(new Set(keys.map(hashTag))).toEqual(new Set(["c:42"]))
  })

  it("keeps a stream and its dead-letter stream in one hash slot", () => {
    expect(hashTag(Keys.stream("cdc.deposits"))).toBe(hashTag(Keys.deadLetter("cdc.deposits")))
    expect(Keys.stream("a")).not.toBe(Keys.stream("b"))
  })

  it("refuses names that could move a key to another slot or collide", () => {
    for (const bad of ["", "a}b", "{x}", "a b", "x".repeat(200), "a\nb"]) {
      expect(() => Keys.customer(bad), JSON.stringify(bad)).toThrow(/invalid customer id/)
    }
    expect(() => Keys.stream("evil}{")).toThrow(/invalid stream name/)
  })
})
