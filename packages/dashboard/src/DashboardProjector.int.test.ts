// The dashboard projector against a real Redis: given CDC entries on the `cdc.<system>` streams,
// when the projector's consumers run, then these documents and these `dashboard.changes`.
import { Cdc } from "@bank/contracts"
import { DocumentStore, Keys, Projection, RedisClient, StreamLog, StreamLog as StreamLogModule } from "@bank/platform"
import { Effect, Exit, Layer, ManagedRuntime, Option, References, Scope, Stream } from "effect"
import { Redis } from "effect/persistence/Redis"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { useRedis } from "@bank/test-kit"
import type * as Dashboard from "./Dashboard.ts"
import { changes } from "./DashboardChanges.ts"
import * as DashboardProjection from "./DashboardProjection.ts"
import * as DashboardProjector from "./DashboardProjector.ts"
import { card, depositAccount, depositEntry, transaction, type TxRow } from "./testing/CdcMessages.ts"
import * as TransactionAssembler from "./TransactionAssembler.ts"

const redisServer = useRedis()
type Services = DocumentStore.DocumentStore | StreamLog.StreamLog | Redis
let runtime: ManagedRuntime.ManagedRuntime<Services, unknown>

beforeAll(async () => {
  runtime = ManagedRuntime.make(
    Layer.mergeAll(DocumentStore.layerBackend("lua"), StreamLogModule.layer).pipe(
      Layer.provideMerge(RedisClient.layer(redisServer.server.url)),
      Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
    )
  )
  await runtime.runPromise(Effect.void)
})
afterAll(() => runtime?.dispose())

const run = <A>(effect: Effect.Effect<A, unknown, Services>) => runtime.runPromise(effect)
const send = <A>(...command: [string, ...Array<string>]) => run(Redis.use((r) => r.send<A>(...command)))

const publish = (system: string, messages: ReadonlyArray<Cdc.CdcMessage>, key: string) =>
  run(
    StreamLog.StreamLog.use((log) =>
      Effect.forEach(messages, (payload) => log.publish(Cdc.partition(system, 0), { key, payload }), { discard: true })
    )
  )

/** Starts the projector (its consumers) until `stop`. */
const startProjector = async (options: DashboardProjector.ProjectorOptions & { consumer?: string } = {}) => {
  const scope = await Effect.runPromise(Scope.make())
  await run(DashboardProjector.run({ ownershipMs: 1000, partitions: 1, ...options }).pipe(Scope.provide(scope)))
  return () => Effect.runPromise(Scope.close(scope, Exit.void))
}

const document = async (customerId: string) => {
  const raw = await run(DocumentStore.DocumentStore.use((s) => s.getRaw(DashboardProjector.documentKey(customerId))))
  return Option.isSome(raw) ? (JSON.parse(raw.value) as Dashboard.DashboardDocument) : undefined
}

const pending = (system: string) =>
  send<[number, ...Array<unknown>]>(
    "XPENDING",
    Keys.stream(Cdc.partition(system, 0).name),
    DashboardProjector.group
  ).then((r) => Number(r[0]))

const deposit = (op: "insert" | "update", row: ReturnType<typeof depositAccount>): TxRow => ({
  schema: "deposits",
  table: "accounts",
  op,
  row
})

describe("dashboard projector", () => {
  it("makes a committed database transaction visible whole, only once its commit arrives", async () => {
    const stop = await startProjector({ systems: ["deposits"] })
    try {
      await publish("deposits", transaction(0x100, 1, [deposit("insert", depositAccount("101", "1", "10000"))]), "101")
      await vi.waitFor(async () => expect((await document("101"))?.accounts).toHaveLength(1))
      const [entryRow, accountRow, commit] = transaction(0x101, 2, [
        {
          schema: "deposits",
          table: "transactions",
          op: "insert",
          row: depositEntry("101", "1", "55", "-2500", "7500", "2025-06-15 11:00:00+00")
        },
        deposit("update", depositAccount("101", "1", "7500"))
      ])
      // Given the rows were delivered but their commit is not on the stream yet...
      await publish("deposits", [entryRow!, accountRow!], "101")
      await vi.waitFor(async () => expect(await pending("deposits")).toBe(2))
      const before = await document("101")
      expect(before?.accounts[0]?.balance).toEqual({ amount: "100.00", currency: "EUR" })
      expect(before?.latestTransactions).toEqual([])
      // ...when it arrives, then balance and transaction appear in one revision.
      await publish("deposits", [commit!], "101")
      await vi.waitFor(async () => expect((await document("101"))?.revision).toBe("000000000002"))
      const after = (await document("101"))!
      expect(after.accounts[0]?.balance).toEqual({ amount: "75.00", currency: "EUR" })
      expect(after.latestTransactions.map((t) => t.id)).toEqual(["deposits:55"])
      const eur = (amount: string) => ({ amount, currency: "EUR" })
      expect(after.totals).toEqual([
        { currency: "EUR", assets: eur("75.00"), liabilities: eur("0.00"), net: eur("75.00") }
      ])
      expect(await pending("deposits")).toBe(0)
      // Each write was announced, in order, for the live feed.
      const announced = await run(StreamLog.StreamLog.use((log) => Stream.runCollect(log.read(changes))))
      expect(
        announced
          .filter((e) => "payload" in e && e.payload.customerId === "101")
          .map((e) => "payload" in e && e.payload.revision)
      ).toEqual(["000000000001", "000000000002"])
    } finally {
      await stop()
    }
  })

  it("changes nothing when the whole stream is read and applied again, twice", async () => {
    const stop = await startProjector({ systems: ["deposits"] })
    const expected = await vi.waitFor(async () => {
      const doc = await document("101")
      expect(doc?.revision).toBe("000000000002")
      return doc
    })
    await stop()
    const replay = run(
      StreamLog.StreamLog.use((log) => Stream.runCollect(log.read(Cdc.partition("deposits", 0)))).pipe(
        Effect.flatMap((delivered) => {
          const entries = delivered.flatMap((e) => ("payload" in e ? [{ entryId: e.entryId, payload: e.payload }] : []))
          const { units } = TransactionAssembler.make().feed(entries)
          return DashboardProjector.applyBatch("deposits", units)
        })
      )
    )
    await replay
    await replay
    expect(await document("101")).toEqual(expected)
  })

  it("applies after a takeover what the stopped consumer left pending, then goes on", async () => {
    const first = await startProjector({ systems: ["cards"], consumer: "first" })
    const second = await startProjector({ systems: ["cards"], consumer: "second" })
    const holder = await send<string>("GET", Keys.streamLease(Cdc.partition("cards", 0).name, DashboardProjector.group))
    const [rows, commit] = [
      transaction(0x200, 3, [{ schema: "cards", table: "cards", op: "insert", row: card("102", "9", "100") }]).slice(
        0,
        1
      ),
      transaction(0x200, 3, [{ schema: "cards", table: "cards", op: "insert", row: card("102", "9", "100") }]).slice(1)
    ]
    await publish("cards", rows, "102")
    await vi.waitFor(async () => expect(await pending("cards")).toBe(1))
    // The active one stops with the transaction's row unacknowledged; the standby takes over.
    await (holder === "first" ? first : second)()
    await publish("cards", commit, "102")
    await vi.waitFor(async () =>
      expect((await document("102"))?.accounts.map((a) => a.balance)).toEqual([{ amount: "1.00", currency: "EUR" }])
    )
    expect(await send<string>("GET", Keys.streamLease(Cdc.partition("cards", 0).name, DashboardProjector.group))).toBe(
      holder === "first" ? "second" : "first"
    )
    await (holder === "first" ? second : first)()
  })

  it("loses no change when all product streams write the same documents at once", async () => {
    const stop = await startProjector({ batchSize: 7 })
    const customers = ["201", "202", "203"]
    const perStream = 40
    // As the connector writes them: each stream in commit order, customers' transactions
    // interleaved; the two streams at the same time.
    const streamOf = (system: "deposits" | "cards") => {
      const out: Array<[Cdc.CdcMessage, string]> = []
      for (let i = 0; i < perStream; i++) {
        customers.forEach((customerId, c) => {
          const n = i * customers.length + c
          const row: TxRow =
            system === "deposits"
              ? deposit(i === 0 ? "insert" : "update", depositAccount(customerId, `${c}`, String(i + 1)))
              : {
                  schema: "cards",
                  table: "cards",
                  op: i === 0 ? "insert" : "update",
                  row: card(customerId, `${c}`, String(i + 1))
                }
          for (const m of transaction(0x1000 + n, (system === "deposits" ? 10_000 : 20_000) + n, [row]))
            out.push([m, customerId])
        })
      }
      return out
    }
    await Promise.all(
      (["deposits", "cards"] as const).map((system) =>
        run(
          StreamLog.StreamLog.use((log) =>
            Effect.forEach(
              streamOf(system),
              ([payload, key]) => log.publish(Cdc.partition(system, 0), { key, payload }),
              { discard: true }
            )
          )
        )
      )
    )
    try {
      for (const customerId of customers) {
        await vi.waitFor(
          async () => {
            const doc = await document(customerId)
            expect(doc?.accounts.map((a) => [a.system, a.balance])).toEqual([
              ["deposits", { amount: "0.40", currency: "EUR" }],
              ["cards", { amount: "0.40", currency: "EUR" }]
            ])
          },
          { timeout: 20_000 }
        )
      }
      // Every write built on the one before it (the compare-and-set held): the announced
      // revisions of each customer are 1, 2, 3... without a repeat.
      const announced = await run(StreamLog.StreamLog.use((log) => Stream.runCollect(log.read(changes))))
      for (const customerId of customers) {
        const revisions = announced.flatMap((e) =>
          "payload" in e && e.payload.customerId === customerId ? [Number(e.payload.revision)] : []
        )
        expect(revisions).toEqual(revisions.map((_, i) => i + 1))
        expect(Number((await document(customerId))?.revision)).toBe(revisions.length)
      }
    } finally {
      await stop()
    }
  })

  it("given a transaction's changes, when the projection value applies them, then this document", async () => {
    const doc = (await run(
      Projection.given(
        DashboardProjection.projection,
        "deposits",
        transaction(0x900, 9, [
          deposit("insert", depositAccount("301", "7", "4200")),
          {
            schema: "deposits",
            table: "transactions",
            op: "insert",
            row: depositEntry("301", "7", "77", "4200", "4200", "2025-06-15 12:00:00+00")
          }
        ])
      ).thenDocument("301")
    )) as Dashboard.DashboardDocument
    expect(doc.accounts.map((a) => [a.id, a.balance])).toEqual([["deposits:7", { amount: "42.00", currency: "EUR" }]])
    expect(doc.latestTransactions.map((t) => t.id)).toEqual(["deposits:77"])
    expect(doc.revision).toBe("000000000001")
  })
})
