// `npx tsx scripts/profile/projector.ts [--customers N] [--history H] [--chunk K] [--rate R] [--seconds S]`:
// a focused measurement of the dashboard projector alone (not a test, not the benchmark report),
// for profiling (`node --cpu-prof --import tsx scripts/profile/projector.ts`). On a private Redis,
// without PostgreSQL or the CDC connector:
//   1. drain: a CDC snapshot of N customers × H rows on cdc.deposits (K rows of a customer in
//      turn), written straight to the stream, then applied by one projector consumer: changes/s from its first batch to lag 0;
//   2. live: R transactions/s (two rows each: an entry and the account's new balance, commit
//      time = now) for S seconds; freshness = the entry id of the DashboardChanged that made a
//      transaction visible minus its commit time, p50/p99, and whether the projector kept up.
// The projector runs in a child process (`--cpu-prof-dir D` profiles it). Prints one JSON line, so runs on two checkouts can be compared side by side.
import { Cdc } from "@bank/contracts"
import { DashboardChanges, DashboardProjector } from "@bank/dashboard"
import { DocumentStore, Envelope, Keys, RedisClient, StreamLog } from "@bank/platform"
import { Effect, Exit, Layer, ManagedRuntime, References, Scope } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { createClient } from "redis"
import { startRedis } from "@bank/test-kit"

const { values } = parseArgs({
  options: {
    customers: { type: "string" },
    history: { type: "string" },
    chunk: { type: "string" },
    rate: { type: "string" },
    seconds: { type: "string" },
    consume: { type: "string" },
    "cpu-prof-dir": { type: "string" }
  }
})

// ── The projector child: `--consume <redis url>`, until SIGTERM ─────────────────────────────
if (values.consume) {
  const runtime = ManagedRuntime.make(
    Layer.mergeAll(DocumentStore.layerBackend("lua"), StreamLog.layer).pipe(
      Layer.provideMerge(RedisClient.layer(values.consume)),
      Layer.provide(Layer.succeed(References.MinimumLogLevel, "Warn"))
    )
  )
  const scope = await Effect.runPromise(Scope.make())
  await runtime.runPromise(
    DashboardProjector.run({ systems: ["deposits"], partitions: 1, ownershipMs: 5000 }).pipe(Scope.provide(scope))
  )
  // SIGUSR2 asks for the CPU time used so far: what a change costs, however busy the machine.
  process.on("SIGUSR2", () => {
    const { user, system } = process.cpuUsage()
    process.stdout.write(`${(user + system) / 1000}\n`)
  })
  process.once("SIGTERM", async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await runtime.dispose()
    process.exit(0)
  })
  await new Promise(() => {})
}
const customers = Number(values.customers ?? 1000)
const history = Number(values.history ?? 60)
// Snapshot rows come `chunk` per customer in turn, as a table scan interleaves customers.
const chunk = Number(values.chunk ?? 5)
const rate = Number(values.rate ?? 1000)
const seconds = Number(values.seconds ?? 10)

const server = await startRedis()
const redis = createClient({ url: server.url })
await redis.connect()
const spec = Cdc.partition("deposits", 0)
const streamKey = Keys.stream(spec.name)
const encode = Envelope.encoder(spec)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const quantile = (sorted: ReadonlyArray<number>, q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN

let lsn = 0x1000
const lsnText = (n: number) => `0/${n.toString(16).toUpperCase()}`
const pgTime = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace("Z", "+00")
const account = (c: number, balance: string): Cdc.Row => ({
  account_id: String(c),
  customer_id: String(c),
  iban: `DE00000000000000${String(c).padStart(6, "0")}`,
  product: "current",
  name: "Current account",
  currency: "EUR",
  balance,
  available_balance: balance,
  overdraft_limit: "0",
  interest_rate: "0.0000",
  last_entry_no: "1",
  status: "open",
  opened_on: "2024-01-02"
})
let transactionId = 0
const entry = (c: number, bookedAt: string): Cdc.Row => {
  const id = String(++transactionId)
  return {
    transaction_id: id,
    account_id: String(c),
    customer_id: String(c),
    entry_no: id,
    amount: "-1250",
    currency: "EUR",
    booking_date: bookedAt.slice(0, 10),
    value_date: bookedAt.slice(0, 10),
    booked_at: bookedAt,
    description: `Card payment ${id}`,
    counterparty: "Grocery store",
    category: "groceries",
    running_balance: "100000"
  }
}
const xadd = (messages: ReadonlyArray<Cdc.CdcMessage>, key: string) => {
  const batch = redis.multi()
  for (const payload of messages)
    batch.addCommand(["XADD", streamKey, "*", ...encode(Envelope.make(spec, { key, payload }))])
  return batch.execAsPipeline()
}

// 1. The snapshot.
const snapshotLsn = lsnText(lsn++)
const started = pgTime(Date.UTC(2025, 5, 1))
let seq = 0
const snapshotRow = (table: string, row: Cdc.Row): Cdc.RowChanged => ({
  _tag: "RowChanged",
  schema: "deposits",
  table,
  op: "snapshot",
  key: table === "accounts" ? { account_id: row.account_id! } : { transaction_id: row.transaction_id! },
  new: row,
  commitLsn: snapshotLsn,
  seq: ++seq,
  commitTime: started,
  xid: 0
})
await xadd([{ _tag: "SnapshotStarted", commitLsn: snapshotLsn, seq: 0, startedAt: started }], "")
for (let c = 1; c <= customers; c++) await xadd([snapshotRow("accounts", account(c, "100000"))], String(c))
for (let h = 0; h < history; h += chunk) {
  for (let c = 1; c <= customers; c++) {
    const rows: Array<Cdc.CdcMessage> = []
    for (let k = h; k < Math.min(history, h + chunk); k++)
      rows.push(snapshotRow("transactions", entry(c, pgTime(Date.UTC(2025, 4, 1) + k * 3_600_000))))
    await xadd(rows, String(c))
  }
}
const snapshotEntries = Number(await redis.xLen(streamKey))

const lag = async () => {
  const groups = (await redis.sendCommand(["XINFO", "GROUPS", streamKey]).catch(() => [])) as Array<Array<unknown>>
  const group = groups
    .map((g) => Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [g[2 * i], g[2 * i + 1]])))
    .find((g) => g.name === DashboardProjector.group)
  return { read: Number(group?.["entries-read"] ?? 0), lag: Number(group?.lag ?? Number.MAX_SAFE_INTEGER) }
}
// The projector in its own process, so what is profiled is the projector alone.
const profile = values["cpu-prof-dir"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof-dir"]}`] : []
const consumer = spawn(
  process.execPath,
  [...profile, "--import", "tsx", fileURLToPath(import.meta.url), "--consume", server.url],
  {
    stdio: ["ignore", "pipe", "inherit"]
  }
)
const cpuReadings: Array<(ms: number) => void> = []
consumer.stdout!.setEncoding("utf8").on("data", (text: string) => {
  for (const line of text.trim().split("\n")) cpuReadings.shift()?.(Number(line))
})
/** The projector's CPU time so far, ms. */
const cpuMs = () =>
  new Promise<number>((resolve) => {
    cpuReadings.push(resolve)
    consumer.kill("SIGUSR2")
  })
// Redis's own time per command (µs), to tell the projector's cost from the server's.
const commandStats = async () => {
  const text = (await redis.sendCommand(["INFO", "commandstats"])) as string
  const stats: Record<string, { calls: number; usec: number }> = {}
  for (const m of text.matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g))
    stats[m[1]!] = { calls: Number(m[2]), usec: Number(m[3]) }
  return stats
}
const serverShare = (
  before: Record<string, { calls: number; usec: number }>,
  after: typeof before,
  seconds: number
) => {
  const out: Record<string, string> = {}
  let busy = 0
  for (const [name, a] of Object.entries(after)) {
    const calls = a.calls - (before[name]?.calls ?? 0)
    const usec = a.usec - (before[name]?.usec ?? 0)
    busy += usec
    if (usec > seconds * 1e4) out[name] = `${calls} calls, ${(usec / calls).toFixed(1)} µs each`
  }
  return { busyPercent: +((busy / (seconds * 1e6)) * 100).toFixed(1), ...out }
}
const statsBefore = await commandStats()
while ((await lag()).read === 0) await sleep(5)
const drainStart = performance.now()
const drainCpuStart = await cpuMs()
while ((await lag()).lag !== 0) await sleep(20)
const drainSeconds = (performance.now() - drainStart) / 1000
const drainCpu = (await cpuMs()) - drainCpuStart
const drainServer = serverShare(statsBefore, await commandStats(), drainSeconds)
const liveBefore = await commandStats()

// 2. Live traffic at `rate` transactions/s, each one customer's entry and new balance.
const changesKey = Keys.stream(DashboardChanges.changes.name)
const [last] = (await redis.sendCommand(["XREVRANGE", changesKey, "+", "-", "COUNT", "1"])) as Array<[string, unknown]>
let committed = 0
const liveStart = performance.now()
const liveCpuStart = await cpuMs()
const tick = 10
let behind = 0
while (performance.now() - liveStart < seconds * 1000) {
  const due = Math.floor(((performance.now() - liveStart) / 1000) * rate)
  const pending: Array<Promise<unknown>> = []
  while (committed < due) {
    const c = 1 + (committed % customers)
    const now = Date.now()
    const at = { commitLsn: lsnText(lsn++), commitTime: pgTime(now), xid: committed + 1 }
    const row = entry(c, pgTime(now))
    pending.push(
      xadd(
        [
          {
            _tag: "RowChanged",
            schema: "deposits",
            table: "transactions",
            op: "insert",
            key: { transaction_id: row.transaction_id! },
            new: row,
            ...at,
            seq: 0
          },
          {
            _tag: "RowChanged",
            schema: "deposits",
            table: "accounts",
            op: "update",
            key: { account_id: String(c) },
            new: account(c, String(100000 - committed)),
            ...at,
            seq: 1
          },
          { _tag: "TransactionCommitted", ...at, seq: 2, changes: 2, total: 2 }
        ],
        String(c)
      )
    )
    committed++
  }
  await Promise.all(pending)
  await sleep(tick)
}
const liveSeconds = (performance.now() - liveStart) / 1000
const catchUpStart = performance.now()
while ((await lag()).lag !== 0) await sleep(5)
behind = performance.now() - catchUpStart
const liveCpu = (await cpuMs()) - liveCpuStart
const liveServer = serverShare(liveBefore, await commandStats(), (performance.now() - liveStart) / 1000)
const freshness: Array<number> = []
let from = last ? `(${last[0]}` : "-"
while (true) {
  const page = (await redis.sendCommand(["XRANGE", changesKey, from, "+", "COUNT", "5000"])) as Array<
    [string, Array<string>]
  >
  for (const [id, fields] of page) {
    const data = JSON.parse(fields[fields.indexOf("data") + 1]!) as { asOf: string | null }
    if (data.asOf) freshness.push(Number(id.split("-")[0]) - Date.parse(data.asOf))
  }
  if (page.length < 5000) break
  from = `(${page.at(-1)![0]}`
}
freshness.sort((a, b) => a - b)

console.log(
  JSON.stringify({
    drain: {
      entries: snapshotEntries,
      seconds: +drainSeconds.toFixed(2),
      changesPerSecond: Math.round(snapshotEntries / drainSeconds),
      // What one process could drain were the CPU its own: changes per CPU-second.
      changesPerCpuSecond: Math.round(snapshotEntries / (drainCpu / 1000)),
      redis: drainServer
    },
    live: {
      targetTxPerSecond: rate,
      committed,
      achievedTxPerSecond: Math.round(committed / liveSeconds),
      writes: freshness.length,
      freshnessP50: +quantile(freshness, 0.5).toFixed(1),
      freshnessP99: +quantile(freshness, 0.99).toFixed(1),
      catchUpMs: Math.round(behind),
      cpuPercent: +(liveCpu / 10 / liveSeconds).toFixed(1),
      redis: liveServer
    }
  })
)
const exited = new Promise((r) => consumer.once("exit", r))
consumer.kill("SIGTERM")
await exited
await redis.close()
await server.stop()
process.exit(0)
