import { describe, expect, it } from "vitest"
import * as Keys from "./Keys.ts"
import { assertOneSlot, CrossSlotError, oneSlot, routingKey, slotOf } from "./Slots.ts"

describe("Slots", () => {
  it("computes the slots Redis Cluster documents", () => {
    // From the cluster spec and `CLUSTER KEYSLOT`.
    expect(slotOf("123456789")).toBe(12739)
    expect(slotOf("foo")).toBe(12182)
    expect(slotOf("{user1000}.following")).toBe(slotOf("{user1000}.followers"))
  })

  it("keeps one customer's keys and a stream's dead letters in one slot", () => {
    const c = Keys.customer("c-42")
    expect(() =>
      assertOneSlot("openSession", [c.key("sessions"), c.key("session-state"), c.document("dashboard")])
    ).not.toThrow()
    expect(() => assertOneSlot("dead-letter", [Keys.stream("cdc.core"), Keys.deadLetter("cdc.core")])).not.toThrow()
  })

  it("refuses keys of two slots", () => {
    expect(() => assertOneSlot("script", [Keys.customer("a").key("x"), Keys.customer("b").key("x")])).toThrow(
      CrossSlotError
    )
  })

  it("tells one slot from two whether or not the keys share a hash tag", () => {
    expect(oneSlot(["{c:1}:a", "{c:1}:b", "{c:1}:c"])).toBe(true)
    expect(oneSlot(["{c:1}:a", "{c:2}:a"])).toBe(false)
    expect(oneSlot(["a{}", "a{}"])).toBe(true)
    // Two different tags (and a bare key) that hash to the same slot are one slot all the same.
    const slot = slotOf("{c:1}")
    let other = 0
    while (slotOf(`x${other}`) !== slot) other++
    expect(oneSlot(["{c:1}:a", `{x${other}}:b`, `x${other}`])).toBe(true)
    expect(oneSlot(["{c:1}:a", `{x${other}}:b`, "{c:2}:a"])).toBe(false)
  })

  it("routes a command by the key that decides its node", () => {
    expect(routingKey("HGETALL", ["k"])).toBe("k")
    expect(routingKey("EVALSHA", ["sha", "2", "a", "b", "arg"])).toBe("a")
    expect(routingKey("EVALSHA", ["sha", "0", "arg"])).toBeUndefined()
    expect(routingKey("XREADGROUP", ["GROUP", "g", "c", "COUNT", "10", "BLOCK", "5", "STREAMS", "s", ">"])).toBe("s")
    expect(routingKey("XINFO", ["CONSUMERS", "s", "g"])).toBe("s")
    expect(routingKey("PING", [])).toBeUndefined()
    expect(routingKey("WAIT", ["1", "100"])).toBeUndefined()
  })
})
