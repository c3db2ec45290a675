// The edge's cache of transaction pages (TransactionPages.PageCache) against a real Redis: what
// the prefetch actor writes to a window on another connection (CDC appending an entry, a new
// load, the window dropped or expired) is seen by the next read once Redis has told us (a
// moment), cached or not; a page another account's write does not touch stays cached. Runs on a
// single Redis and, in the e2e-cluster project, on a private 6-node Redis Cluster (where pages
// are not cached: every read runs the script on the node of the window's keys).
import { RedisClient } from "@bank/platform"
import { testTopology, useRedis } from "@bank/test-kit"
import { Effect, Layer, ManagedRuntime, References } from "effect"
import { Redis } from "effect/persistence/Redis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TransactionCache from "./TransactionCache.ts"
import { makePageCache, PageCache, type Page } from "./TransactionPages.ts"
import { entry, window } from "./testing/Windows.ts"

const numbers = (body: string | null | undefined) =>
  typeof body === "string" ? (JSON.parse(body) as Page).transactions.map((t) => t.entryNo) : body

const server = useRedis()

describe.each([true, false])("TransactionPages.PageCache (cache %s)", (cache) => {
  const caches = cache && testTopology() !== "cluster"
  let runtime: ManagedRuntime.ManagedRuntime<Redis | PageCache, unknown>
  const run = <A, E>(effect: Effect.Effect<A, E, Redis | PageCache>) => runtime.runPromise(effect)
  let n = 0
  /** A fresh account per test. */
  const next = () => `deposits:${cache ? 1 : 2}${++n}`
  const load = async (account: string, from: number, last: number) => {
    await run(TransactionCache.beginLoad("7", account, "t", 60_000))
    expect(await run(TransactionCache.finishLoad("7", account, "t", window(from, last), 60_000))).toBe(true)
  }
  /** Reads as the route does: the synchronous answer when there is one, else the read. */
  const read = (account: string, before: number | undefined, limit: number) =>
    run(
      Effect.gen(function* () {
        const pages = yield* PageCache
        const hit = pages.peek("7", account, before, limit)
        return hit !== undefined ? hit : yield* pages.read("7", account, before, limit)
      })
    )
  /** Reads until the page shows `expected`, within 100 ms (Redis's push may come a moment after the writer's reply). */
  const seen = async (account: string, before: number | undefined, limit: number, expected: unknown) => {
    const written = Date.now()
    while (JSON.stringify(numbers(await read(account, before, limit))) !== JSON.stringify(expected)) {
      expect(Date.now() - written).toBeLessThan(100)
      await new Promise((r) => setImmediate(r))
    }
  }
  const peek = (account: string, before: number | undefined, limit: number) =>
    run(PageCache.use((pages) => Effect.succeed(pages.peek("7", account, before, limit))))

  beforeAll(() => {
    runtime = ManagedRuntime.make(
      Layer.mergeAll(
        Layer.effect(PageCache, makePageCache({ cache })),
        Layer.succeed(References.MinimumLogLevel, "Error")
      ).pipe(Layer.provideMerge(RedisClient.layer(server.server.url))) as Layer.Layer<Redis | PageCache, unknown>
    )
  })
  afterAll(() => runtime?.dispose())

  it("renders the page the API returns, with the cursor of the next one", async () => {
    const a = next()
    await load(a, 1, 5)
    const page = JSON.parse((await read(a, undefined, 2))!) as Page
    expect(page).toMatchObject({ accountId: a, currency: "EUR" })
    expect(page.transactions[0]).toMatchObject({ entryNo: 5, amount: { amount: "5.00", currency: "EUR" } })
    expect(page.nextCursor).toEqual(expect.any(String))
    // Served from memory after one read, when cached.
    expect(numbers(await peek(a, undefined, 2))).toEqual(caches ? [5, 4] : undefined)
  })

  it("shows an entry CDC appends, on every cached page of the account, and only there", async () => {
    const a = next()
    const b = next()
    await load(a, 1, 5)
    await load(b, 1, 3)
    await seen(a, undefined, 2, [5, 4])
    await seen(a, 4, 2, [3, 2])
    await seen(b, undefined, 2, [3, 2])
    expect(await run(TransactionCache.apply("7", a, { entry: entry(6) }))).toBe("appended")
    await seen(a, undefined, 2, [6, 5])
    // The older page read the window's keys too: dropped with the rest, read again, the same.
    expect(numbers(await peek(a, 4, 2))).toBeUndefined()
    await seen(a, 4, 2, [3, 2])
    // The other account's page was not touched.
    expect(numbers(await peek(b, undefined, 2))).toEqual(caches ? [3, 2] : undefined)
  })

  it("answers null (read PostgreSQL) once the window is dropped or has expired, and serves it again after a new load", async () => {
    const a = next()
    await load(a, 1, 5)
    await seen(a, undefined, 3, [5, 4, 3])
    expect(await run(TransactionCache.apply("7", a, "invalidate"))).toBe("invalidated")
    await seen(a, undefined, 3, null)
    await load(a, 2, 8)
    await seen(a, undefined, 3, [8, 7, 6])
    // Beyond the window (entry 1 is not in it): PostgreSQL's.
    await seen(a, 3, 3, null)
    await run(Redis.use((redis) => redis.send("PEXPIRE", ...TransactionCache.keys("7", a).slice(0, 1), "1")))
    await new Promise((r) => setTimeout(r, 5))
    await run(Redis.use((redis) => redis.send("EXISTS", ...TransactionCache.keys("7", a)))) // lets Redis expire it
    await seen(a, undefined, 3, null)
  })
})
