// `npx tsx scripts/profile/applyCustomer.ts [--writes N] [--concurrency C]`: the cost of one
// dashboard write (DashboardProjector.applyCustomer: apply the units in memory, one guarded
// DocumentStore.apply, one DashboardChanged) on a private Redis, CPU time per write in this
// process and Redis's time per command. Not a test.
import type { Cdc } from "@bank/contracts"
import { DashboardProjector, Positions } from "@bank/dashboard"
import { DocumentStore, RedisClient, StreamLog } from "@bank/platform"
import { Effect, Layer, ManagedRuntime, References } from "effect"
import { parseArgs } from "node:util"
import { startRedis } from "@bank/test-kit"

const { values } = parseArgs({
  options: { writes: { type: "string" }, concurrency: { type: "string" }, customers: { type: "string" } }
})
const writes = Number(values.writes ?? 20_000)
const concurrency = Number(values.concurrency ?? 32)
const customers = Number(values.customers ?? 1000)

const server = await startRedis()
const runtime = ManagedRuntime.make(
  Layer.mergeAll(DocumentStore.layerBackend("lua"), StreamLog.layer).pipe(
    Layer.provideMerge(RedisClient.layer(server.url)),
    Layer.provide(Layer.succeed(References.MinimumLogLevel, "Warn"))
  )
)
let lsn = 0x1000
const unit = (
  c: number,
  n: number
): DashboardProjector.ProjectorOptions & { unit: Parameters<typeof DashboardProjector.applyCustomer>[2][number] } => {
  const commitLsn = `0/${(lsn++).toString(16).toUpperCase()}`
  const commitTime = new Date(Date.UTC(2025, 5, 15) + n * 1000).toISOString().replace("T", " ").replace("Z", "+00")
  const at = { commitLsn, commitTime, xid: n }
  const rows: Array<Cdc.RowChanged> = [
    {
      _tag: "RowChanged",
      schema: "deposits",
      table: "transactions",
      op: "insert",
      key: { transaction_id: String(n) },
      new: {
        transaction_id: String(n),
        account_id: String(c),
        customer_id: String(c),
        entry_no: String(n),
        amount: "-1250",
        currency: "EUR",
        booking_date: commitTime.slice(0, 10),
        value_date: commitTime.slice(0, 10),
        booked_at: commitTime,
        description: `Card payment ${n}`,
        counterparty: "Grocery store",
        category: "groceries",
        running_balance: "100000"
      },
      ...at,
      seq: 0
    },
    {
      _tag: "RowChanged",
      schema: "deposits",
      table: "accounts",
      op: "update",
      key: { account_id: String(c) },
      new: {
        account_id: String(c),
        customer_id: String(c),
        iban: `DE000000000000${String(c).padStart(8, "0")}`,
        product: "current",
        name: "Current account",
        currency: "EUR",
        balance: String(100000 - n),
        available_balance: String(100000 - n),
        overdraft_limit: "0",
        interest_rate: "0.0000",
        last_entry_no: String(n),
        status: "open",
        opened_on: "2024-01-02"
      },
      ...at,
      seq: 1
    }
  ]
  return { unit: { position: Positions.encode({ commitLsn, seq: 2 }), commitTime: rows[0]!.commitTime, rows } }
}
const cache = DashboardProjector.makeCache(5000)
const round = async (count: number) => {
  let next = 0
  const cpu = process.cpuUsage()
  const t = performance.now()
  await runtime.runPromise(
    Effect.forEach(
      Array.from({ length: concurrency }),
      () =>
        Effect.gen(function* () {
          while (next < count) {
            const n = next++
            const c = 1 + (n % customers)
            yield* DashboardProjector.applyCustomer("deposits", String(c), [unit(c, n).unit], 20, cache)
          }
        }),
      { concurrency: "unbounded", discard: true }
    )
  )
  const used = process.cpuUsage(cpu)
  return { wall: (performance.now() - t) / count, cpu: (used.user + used.system) / 1000 / count }
}
await round(customers * 25) // every document full (20 transactions), JIT warm
for (let r = 0; r < 3; r++) {
  const { wall, cpu } = await round(writes)
  console.log(`applyCustomer: ${(cpu * 1000).toFixed(1)} µs CPU per write, ${(1000 / wall).toFixed(0)} writes/s`)
}
await runtime.dispose()
await server.stop()
process.exit(0)
