// The prefetched window's scripts against a real Redis: how a load and CDC deliveries that
// overlap it end up, and when a page may be served from the window.
import { RedisClient } from "@bank/platform"
import { Effect, Layer, ManagedRuntime } from "effect"
import type { Redis } from "effect/persistence/Redis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "@bank/test-kit"
import * as TransactionCache from "./TransactionCache.ts"
import { entry, window } from "./testing/Windows.ts"
import type { Compact } from "./Transactions.ts"

const numbers = (page: TransactionCache.CachedPage | undefined) => page?.entries.map((e) => e[1])

describe("TransactionCache", () => {
  const server = useRedis()
  let runtime: ManagedRuntime.ManagedRuntime<Redis, unknown>
  const run = <A, E>(effect: Effect.Effect<A, E, Redis>) => runtime.runPromise(effect)
  let account = 0
  /** A fresh account per test. */
  const next = () => `deposits:${++account}`

  beforeAll(() => {
    runtime = ManagedRuntime.make(RedisClient.layer(server.server.url) as Layer.Layer<Redis, unknown>)
  })
  afterAll(() => runtime?.dispose())

  it("given entries CDC delivered during a load, when the load finishes, then the window holds both", async () => {
    const a = next()
    await run(TransactionCache.beginLoad("7", a, "t1", 60_000))
    // 6 was committed after the snapshot (which saw 3..5); 5 is a late delivery of a snapshot entry.
    expect(await run(TransactionCache.apply("7", a, { entry: entry(6) }))).toBe("buffered")
    expect(await run(TransactionCache.apply("7", a, { entry: entry(5) }))).toBe("buffered")
    expect(await run(TransactionCache.page("7", a, undefined, 2))).toBeUndefined() // still loading
    expect(await run(TransactionCache.finishLoad("7", a, "t1", window(3, 5), 60_000))).toBe(true)
    expect(numbers(await run(TransactionCache.page("7", a, undefined, 4)))).toEqual([6, 5, 4, 3])
    expect(await run(TransactionCache.apply("7", a, { entry: entry(6) }))).toBe("present")
    expect(await run(TransactionCache.apply("7", a, { entry: entry(7) }))).toBe("appended")
    expect(numbers(await run(TransactionCache.page("7", a, undefined, 2)))).toEqual([7, 6])
  })

  it("given an entry number CDC buffered, when the load brings it too, then the buffered entry stays the only one", async () => {
    const a = next()
    await run(TransactionCache.beginLoad("7", a, "t", 60_000))
    const delivered = entry(2).with(6, "as CDC delivered it") as unknown as Compact
    expect(await run(TransactionCache.apply("7", a, { entry: delivered }))).toBe("buffered")
    expect(await run(TransactionCache.finishLoad("7", a, "t", window(1, 3), 60_000))).toBe(true)
    const page = await run(TransactionCache.page("7", a, undefined, 10))
    expect(page?.entries.map((e) => [e[1], e[6]])).toEqual([
      [3, "entry 3"],
      [2, "as CDC delivered it"],
      [1, "entry 1"]
    ])
  })

  it("loads a window of thousands of entries whole", async () => {
    const a = next()
    await run(TransactionCache.beginLoad("7", a, "t", 60_000))
    expect(await run(TransactionCache.apply("7", a, { entry: entry(1500) }))).toBe("buffered")
    expect(await run(TransactionCache.finishLoad("7", a, "t", window(1, 2500), 60_000))).toBe(true)
    const page = await run(TransactionCache.page("7", a, undefined, 3000))
    expect(numbers(page)).toEqual(Array.from({ length: 2500 }, (_, i) => 2500 - i))
  })

  it("given a ready window, when an entry arrives after a gap, then the window is dropped", async () => {
    const a = next()
    await run(TransactionCache.beginLoad("7", a, "t", 60_000))
    await run(TransactionCache.finishLoad("7", a, "t", window(1, 3), 60_000))
    expect(await run(TransactionCache.apply("7", a, { entry: entry(5) }))).toBe("invalidated")
    expect(await run(TransactionCache.page("7", a, undefined, 2))).toBeUndefined()
    expect(await run(TransactionCache.apply("7", a, { entry: entry(6) }))).toBe("absent")
  })

  it("given a load, when another load starts or CDC invalidates meanwhile, then the first load changes nothing", async () => {
    const a = next()
    await run(TransactionCache.beginLoad("7", a, "first", 60_000))
    await run(TransactionCache.beginLoad("7", a, "second", 60_000))
    expect(await run(TransactionCache.finishLoad("7", a, "first", window(1, 3), 60_000))).toBe(false)
    expect(await run(TransactionCache.finishLoad("7", a, "second", window(1, 4), 60_000))).toBe(true)
    expect(numbers(await run(TransactionCache.page("7", a, undefined, 10)))).toEqual([4, 3, 2, 1])

    const b = next()
    await run(TransactionCache.beginLoad("7", b, "t", 60_000))
    expect(await run(TransactionCache.apply("7", b, "invalidate"))).toBe("invalidated")
    expect(await run(TransactionCache.finishLoad("7", b, "t", window(1, 3), 60_000))).toBe(false)
    expect(await run(TransactionCache.page("7", b, undefined, 1))).toBeUndefined()
  })

  it("serves a page only when the window holds all of it, or the page ends at the first entry", async () => {
    const partial = next()
    await run(TransactionCache.beginLoad("7", partial, "t", 60_000))
    await run(TransactionCache.finishLoad("7", partial, "t", window(5, 9), 60_000))
    expect(numbers(await run(TransactionCache.page("7", partial, undefined, 5)))).toEqual([9, 8, 7, 6, 5])
    expect(numbers(await run(TransactionCache.page("7", partial, 8, 3)))).toEqual([7, 6, 5])
    expect(await run(TransactionCache.page("7", partial, 8, 4))).toBeUndefined() // 4 is not in the window
    expect(await run(TransactionCache.page("7", partial, 11, 2))).toBeUndefined() // 10 is newer than the window

    const whole = next()
    await run(TransactionCache.beginLoad("7", whole, "t", 60_000))
    await run(TransactionCache.finishLoad("7", whole, "t", window(1, 3), 60_000))
    expect(numbers(await run(TransactionCache.page("7", whole, 3, 10)))).toEqual([2, 1])
    expect(numbers(await run(TransactionCache.page("7", whole, 1, 10)))).toEqual([])

    const empty = next()
    await run(TransactionCache.beginLoad("7", empty, "t", 60_000))
    await run(TransactionCache.finishLoad("7", empty, "t", { ...window(1, 0), entries: [] }, 60_000))
    expect(numbers(await run(TransactionCache.page("7", empty, undefined, 10)))).toEqual([])
    expect(await run(TransactionCache.apply("7", empty, { entry: entry(1) }))).toBe("appended")
    expect(numbers(await run(TransactionCache.page("7", empty, undefined, 10)))).toEqual([1])
  })
})
