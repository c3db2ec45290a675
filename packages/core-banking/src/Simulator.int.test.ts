import { Database } from "@bank/platform"
import { Deferred, Effect, Fiber, ManagedRuntime } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { usePostgres } from "@bank/test-kit"
import { seed } from "./Generator.ts"
import { Ledgers } from "@bank/records"
import { run as simulate } from "./Simulator.ts"

describe("Simulator", () => {
  const pg = usePostgres()
  let runtime: ManagedRuntime.ManagedRuntime<Database.Database, never>
  const run = <A, E>(effect: Effect.Effect<A, E, Database.Database>) => runtime.runPromise(effect)
  const count = async (table: string) =>
    Number(
      (await run(Database.Database.use((db) => db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))))[0]!.n
    )
  const entries = async () => ({
    deposits: await count("deposits.transactions"),
    cards: await count("cards.transactions"),
    investments: await count("investments.transactions")
  })

  beforeAll(async () => {
    runtime = ManagedRuntime.make(Database.layer(pg.server.url))
    await run(seed(pg.server.url, { customers: 50, months: 1, asOf: "2025-03-10", hashPool: 2, progress: false }))
  })
  afterAll(() => runtime?.dispose())

  it("books activity on an open-loop schedule, each entry with its balance change", async () => {
    const before = await entries()
    const summary = await run(simulate({ rate: 50, durationMs: 2000, seed: "1" }))
    const after = await entries()

    // Open-loop schedule: at most 100 slots in 2 s, each booked, declined or (on a machine too
    // busy to keep up) counted as missed. The rate reached is the benchmark's business, not this test's.
    expect(summary.booked + summary.declined + summary.missed).toBeLessThanOrEqual(101)
    expect(summary.booked).toBeGreaterThan(0)
    expect(summary.achievedRate).toBeCloseTo((summary.booked + summary.declined) / summary.seconds)
    expect(summary.failed).toBe(0)
    // Every activity the simulator counts as booked is in the ledger, once.
    expect(after.deposits - before.deposits).toBe(summary.bySystem.deposits)
    expect(after.cards - before.cards).toBe(summary.bySystem.cards)
    expect(after.investments - before.investments).toBe(summary.bySystem.investments)
    expect(await run(Ledgers.check())).toEqual([])
  })

  it("stops gracefully when asked, with every committed entry consistent with its account", async () => {
    const before = await count("deposits.transactions")
    const stop = Deferred.makeUnsafe<void>()
    const fiber = runtime.runFork(simulate({ rate: 200, stop, workers: 4 }))
    // Let it run until it has visibly written something, then ask it to stop.
    while ((await count("deposits.transactions")) < before + 30) await new Promise((r) => setTimeout(r, 20))
    Deferred.doneUnsafe(stop, Effect.void)
    const summary = await runtime.runPromise(Fiber.join(fiber))
    expect(summary.booked).toBeGreaterThan(30)
    expect(await count("deposits.transactions")).toBe(before + summary.bySystem.deposits)
    expect(await run(Ledgers.check())).toEqual([])
  })
})
