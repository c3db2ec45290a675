// CDC benchmark (not a test): `npx tsx scripts/bench-cdc.ts [--changes 50000] [--rate 1000]`.
// Starts its own PostgreSQL (wal_level=logical) and Redis (AOF, fsync every second), runs the
// connector as its own process (packages/cdc/src/main.ts) and prints a Markdown table:
//   raw       the inserts with no replication slot: what the database does without CDC
//   burst     the same inserts with the connector streaming: writer speed, end-to-end CDC
//             throughput, and commit-to-entry latency (which then includes queueing)
//   paced     a steady `--rate` changes/s: commit-to-entry latency under normal load
//   backlog   the connector started on `--changes` waiting changes: how fast it catches up
//   large tx  one transaction of `--large` inserts: throughput, and the connector's peak memory
//             before and after (it streams the transaction, it does not hold it)
//   --burst-only  raw and burst only; --json prints one JSON line instead of the table (for
//                 `npm run bench`); --before DIR adds bursts with another checkout's connector,
//                 interleaved with this one's, --rounds R (2) of each: before/after in one run;
//                 --cpu-prof DIR profiles the connector processes. With --json, the burst's
//                 CPU per change by process (the connector, PostgreSQL's backends, walsender
//                 and background processes, Redis, the writers), and then a second burst with a
//                 freshly started connector under `node --cpu-prof`: its busy time by area and
//                 its top functions (self time) while the burst streamed
// Latency is the Redis entry id's time (set by XADD) minus the transaction's commit time from
// the WAL, both from this machine's clock: the delay a consumer of the stream sees.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { CommandLine } from "@bank/platform"
import pg from "pg"
import { Cdc } from "@bank/contracts"
import { CdcConnector } from "@bank/cdc"
import { type ConnectorProcess, readEntries, redisClient, spawnConnector, waitUntil } from "@bank/cdc/testing"
import { startPostgres, startRedis } from "@bank/test-kit"
import { postgresRoles, processMeter } from "./bench/Processes.ts"
import * as ProfileSummary from "./bench/ProfileSummary.ts"

const { values: args } = CommandLine.parse({
  name: "npx tsx scripts/bench-cdc.ts",
  summary: "CDC benchmark on private servers: raw inserts, burst, paced, backlog and large-transaction runs.",
  options: {
    changes: { type: "string", value: "N", description: "changes in the burst and backlog runs (default 50000)" },
    rate: { type: "string", value: "R", description: "changes per second in the paced run (default 1000)" },
    large: { type: "string", value: "N", description: "inserts in the large transaction (default 200000)" },
    "burst-only": { type: "boolean", description: "only the raw and burst runs" },
    json: { type: "boolean", description: "one JSON line with the raw and burst figures" },
    before: { type: "string", value: "DIR", description: "also burst with the connector of another checkout" },
    rounds: { type: "string", value: "R", description: "bursts of each checkout with --before (default 2)" },
    "cpu-prof": { type: "string", value: "DIR", description: "write CPU profiles of the connectors into DIR" }
  }
})
const large = CommandLine.positiveInt("bench-cdc", "large", args.large) ?? 200_000
const changes = CommandLine.positiveInt("bench-cdc", "changes", args.changes) ?? 50_000
const rate = CommandLine.positiveInt("bench-cdc", "rate", args.rate) ?? 1000
const rowsPerTransaction = 5
const writers = 4
const say = (line: string) => console.error(line)

const postgres = await startPostgres()
const redisServer = await startRedis({ appendonly: true })
const db = new pg.Client({ connectionString: postgres.url })
await db.connect()
const redis = await redisClient(redisServer.url)
const connectors: Array<ConnectorProcess> = []

const ddl = `CREATE SCHEMA IF NOT EXISTS deposits;
  CREATE TABLE deposits.transactions (
    transaction_id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount bigint NOT NULL,
    currency char(3) NOT NULL, booked_at timestamptz NOT NULL DEFAULT now(), description text NOT NULL)`

/** Inserts `count` rows from `first`, 5 a transaction, from 4 connections; returns seconds. */
const insert = async (first: number, count: number, perSecond?: number) => {
  const started = performance.now()
  const transactions = Math.ceil(count / rowsPerTransaction)
  await Promise.all(
    Array.from({ length: writers }, async (_, lane) => {
      const w = new pg.Client({ connectionString: postgres.url })
      await w.connect()
      for (let t = lane; t < transactions; t += writers) {
        if (perSecond) {
          const due = started + (t * rowsPerTransaction * 1000) / perSecond
          const wait = due - performance.now()
          if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        }
        const id = first + t * rowsPerTransaction
        await w.query(
          `INSERT INTO deposits.transactions (transaction_id, customer_id, amount, currency, description)
         SELECT i, i % 1000, -(i % 100000), 'EUR', 'Card payment at merchant ' || i FROM generate_series($1::bigint, $2::bigint) i`,
          [id, id + rowsPerTransaction - 1]
        )
      }
      await w.end()
    })
  )
  return (performance.now() - started) / 1000
}

const startConnector = async (cwd?: string, profileDir = args["cpu-prof"]) => {
  const connector = spawnConnector(
    {
      DATABASE_URL: postgres.url,
      REDIS_URL: redisServer.url,
      CDC_SCHEMAS: "deposits",
      CDC_LAG_INTERVAL_MS: "60000"
    },
    {
      ...(cwd ? { cwd } : {}),
      ...(profileDir ? { nodeArgs: ["--cpu-prof", "--cpu-prof-dir", profileDir] } : {})
    }
  )
  connectors.push(connector)
  await waitUntil(
    "the connector's snapshot",
    async () => (await redis.exists(CdcConnector.keys("bank_cdc").snapshot)) === 1,
    60_000
  ).catch((e) => {
    throw new Error(`${e.message}\n${connector.output()}`)
  })
  return connector
}

/** Inserts of the stream whose transaction_id is in [from, from + count). */
const streamed = async (from: number, count: number) =>
  (await readEntries(redis, "deposits")).filter((e) => {
    if (e.payload._tag !== "RowChanged" || e.payload.op !== "insert") return false
    const id = Number(e.payload.key["transaction_id"])
    return id >= from && id < from + count
  })

/** EXEC calls Redis answered so far (INFO commandstats). */
const execCalls = async () =>
  Number(/cmdstat_exec:calls=(\d+)/.exec(String(await redis.sendCommand(["INFO", "commandstats"])))?.[1] ?? 0)

const streamLength = () => redis.xLen("stream:{s:cdc.deposits.p0}")

/**
 * Waits for `count` inserts written after the stream had `lengthBefore` entries: 5 changes and
 * one TransactionCommitted a transaction. Polls XLEN only, to leave the CPU to the connector.
 */
const waitStreamed = (lengthBefore: number, count: number) =>
  waitUntil(
    `${count} changes in Redis`,
    async () => (await streamLength()) >= lengthBefore + count + count / rowsPerTransaction,
    600_000
  )

const entryMs = (id: string) => Number(id.split("-")[0])

const latencies = (entries: Awaited<ReturnType<typeof streamed>>) => {
  const ms = entries
    .map((e) => entryMs(e.entryId) - Date.parse((e.payload as Cdc.RowChanged).commitTime))
    .sort((a, b) => a - b)
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!
  return { p50: at(0.5), p99: at(0.99), max: ms.at(-1)! }
}

/** End-to-end: changes / (last entry written - first transaction committed). */
const throughput = (entries: Awaited<ReturnType<typeof streamed>>) => {
  const firstCommit = Math.min(...entries.map((e) => Date.parse((e.payload as Cdc.RowChanged).commitTime)))
  const lastEntry = Math.max(...entries.map((e) => Number(e.entryId.split("-")[0])))
  return entries.length / ((lastEntry - firstCommit) / 1000)
}

/** CPU seconds a process has used so far (utime + stime from /proc). */
const cpuSeconds = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Peak resident memory of a process so far, in MB (Linux). */
const peakRssMb = (pid: number) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024

const fmt = (n: number) => Math.round(n).toLocaleString("en-US")
const rows: Array<string> = []

try {
  await db.query(ddl)
  // A warm-up, so neither the database's caches nor this process's JIT favour the later runs.
  await insert(50_000_000, Math.min(changes, 10_000))
  await db.query("TRUNCATE deposits.transactions")
  say(`raw: ${changes} inserts, no CDC`)
  const rawSeconds = await insert(1, changes)
  await db.query("TRUNCATE deposits.transactions")

  const rawRate = changes / rawSeconds
  let nextFrom = 10_000_000
  /** The inserts again with `connector` streaming: writer and CDC rates, latencies. */
  const burstRun = async (connector?: ConnectorProcess) => {
    const cpuBefore = connector ? cpuSeconds(connector.child.pid!) : 0
    // Every process's CPU over the burst: where the cores went (this process is the writers).
    const perProcess = processMeter({ redisPort: redisServer.port, postgresDir: postgres.dir }, postgresRoles)
    const started = performance.now()
    const execsBefore = await execCalls()
    const from = nextFrom
    nextFrom += 10_000_000
    const lengthBefore = await streamLength()
    const seconds = await insert(from, changes)
    await waitStreamed(lengthBefore, changes)
    const wall = (performance.now() - started) / 1000
    // The connector writes a batch as one MULTI/EXEC per stream partition (one here).
    const batches = (await execCalls()) - execsBefore
    const cpu = Object.fromEntries(
      perProcess().map((p) => [p.name === "load generator" ? "writers" : p.name, (p.cores * wall * 1e6) / changes])
    )
    const entries = await streamed(from, changes)
    // The connector's CPU per change: what the change costs, whatever the machine's load.
    const usPerChange = connector ? ((cpuSeconds(connector.child.pid!) - cpuBefore) * 1e6) / changes : undefined
    return {
      seconds,
      entries,
      latency: latencies(entries),
      cdcRate: throughput(entries),
      usPerChange,
      cpu,
      changesPerBatch: changes / Math.max(1, batches)
    }
  }
  /** One transaction through a freshly started connector: it streams once this is in Redis. */
  const streaming = async () => {
    const lengthBefore = await streamLength()
    await insert(nextFrom, rowsPerTransaction)
    nextFrom += 10_000_000
    await waitStreamed(lengthBefore, rowsPerTransaction)
  }

  if (args.before) {
    const rounds = CommandLine.positiveInt("bench-cdc", "rounds", args.rounds) ?? 2
    const load = loadavg()
    const runs: Array<{ label: string; ratio: number; us: number }> = []
    for (let round = 1; round <= rounds; round++) {
      for (const [label, cwd] of [
        ["before", args.before],
        ["after", undefined]
      ] as const) {
        const c = await startConnector(cwd)
        await streaming()
        const run = await burstRun(c)
        runs.push({ label, ratio: run.cdcRate / rawRate, us: run.usPerChange ?? 0 })
        say(
          `round ${round} ${label}: CDC ${fmt(run.cdcRate)} changes/s = ${(run.cdcRate / rawRate).toFixed(2)}× raw; connector CPU ${run.usPerChange?.toFixed(1)} µs a change`
        )
        await c.stop()
      }
    }
    const mean = (label: string, of: "ratio" | "us" = "ratio") => {
      const mine = runs.filter((r) => r.label === label)
      return mine.reduce((s, r) => s + r[of], 0) / mine.length
    }
    console.log(
      `A/B burst (${rounds} rounds interleaved, raw ${fmt(rawRate)} inserts/s, load average ${load.map((x) => x.toFixed(2)).join(" ")} → ${loadavg()
        .map((x) => x.toFixed(2))
        .join(
          " "
        )}): before ${mean("before").toFixed(2)}× raw at ${mean("before", "us").toFixed(1)} µs of connector CPU a change, after ${mean("after").toFixed(2)}× raw at ${mean("after", "us").toFixed(1)} µs`
    )
  }

  say("burst: the same inserts with the connector streaming")
  let connector = await startConnector()
  if (args.before) await streaming()
  const burstRun1 = await burstRun(connector)
  const burstSeconds = burstRun1.seconds
  const burst = burstRun1.entries
  const burstLatency = burstRun1.latency
  if (args.json || args["burst-only"]) {
    connector.child.kill("SIGTERM")
    await connector.exited
    // The same burst again through a connector under the V8 profiler (its cost stays out of
    // the figures above): where the connector's CPU goes.
    const profileDir = mkdtempSync(join(tmpdir(), "bank-cdc-prof-"))
    let profile: { summary: ProfileSummary.Summary; usPerChange: number | undefined } | undefined
    try {
      const profiled = await startConnector(undefined, profileDir)
      await streaming()
      const began = performance.now()
      const run = await burstRun(profiled)
      await profiled.stop()
      const file = readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"))
      if (file)
        profile = {
          summary: ProfileSummary.profileWindow(join(profileDir, file), (performance.now() - began) / 1000, 12),
          usPerChange: run.usPerChange
        }
    } finally {
      rmSync(profileDir, { recursive: true, force: true })
    }
    const result = {
      changes,
      rawPerSecond: rawRate,
      burstWriterPerSecond: changes / burstSeconds,
      burstCdcPerSecond: burstRun1.cdcRate,
      ratio: burstRun1.cdcRate / rawRate,
      latencyMs: burstLatency,
      connectorMicrosecondsPerChange: burstRun1.usPerChange,
      batchSize: CdcConnector.defaults.batchSize,
      /** Row changes per batch the connector wrote in the burst (EXEC calls), at most batchSize entries. */
      changesPerBatch: burstRun1.changesPerBatch,
      /** µs of CPU a change by process over the burst (wall time × cores / changes). */
      cpuMicrosecondsPerChange: burstRun1.cpu,
      ...(profile ? { profile: profile.summary, profiledConnectorMicrosecondsPerChange: profile.usPerChange } : {})
    }
    if (args.json) console.log(JSON.stringify(result))
    else {
      console.log(
        `raw ${fmt(rawRate)} inserts/s; burst: writers ${fmt(result.burstWriterPerSecond)}/s, CDC ${fmt(result.burstCdcPerSecond)} changes/s = ${result.ratio.toFixed(2)}× raw; commit→entry p50 ${burstLatency.p50} ms, p99 ${burstLatency.p99} ms`
      )
      console.log(
        `${result.changesPerBatch.toFixed(1)} changes a batch; CPU µs a change: ${Object.entries(
          result.cpuMicrosecondsPerChange
        )
          .map(([name, us]) => `${name} ${us.toFixed(1)}`)
          .join(", ")}`
      )
      if (profile) {
        console.log(`connector profile: ${ProfileSummary.text(profile.summary, 8)}`)
        for (const f of profile.summary.functions)
          console.log(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`)
      }
    }
    process.exitCode = 0
  } else {
    say(`paced: ${rate} changes/s for ${Math.max(5, Math.round(changes / rate / 5))} s`)
    const pacedFrom = 20_000_000
    const pacedCount = Math.max(5, Math.round(changes / rate / 5)) * rate
    let before = await streamLength()
    await insert(pacedFrom, pacedCount, rate)
    await waitStreamed(before, pacedCount)
    const pacedLatency = latencies(await streamed(pacedFrom, pacedCount))

    say(`backlog: ${changes} changes written while the connector is down`)
    connector.child.kill("SIGTERM")
    await connector.exited
    const backlogFrom = 30_000_000
    before = await streamLength()
    await insert(backlogFrom, changes)
    const restartedAt = Date.now()
    connector = await startConnector()
    await waitStreamed(before, changes)
    const backlog = await streamed(backlogFrom, changes)
    const entryTimes = backlog.map((e) => Number(e.entryId.split("-")[0]))
    const startSeconds = (Math.min(...entryTimes) - restartedAt) / 1000
    const drainSeconds = (Math.max(...entryTimes) - Math.min(...entryTimes)) / 1000

    say(`large transaction: ${large} inserts in one transaction`)
    const rssBefore = peakRssMb(connector.child.pid!)
    const lengthBefore = await streamLength()
    await db.query(
      `INSERT INTO deposits.transactions (transaction_id, customer_id, amount, currency, description)
     SELECT i, i % 1000, i % 100000, 'EUR', 'Standing order ' || i FROM generate_series(40000000::bigint, $1::bigint) i`,
      [40_000_000 + large - 1]
    )
    await waitUntil(
      "the large transaction in Redis",
      async () => (await streamLength()) >= lengthBefore + large + 1,
      600_000
    )
    const [last] = (await redis.sendCommand([
      "XREVRANGE",
      "stream:{s:cdc.deposits.p0}",
      "+",
      "-",
      "COUNT",
      "1"
    ])) as Array<[string, Array<string>]>
    const lastData = JSON.parse(last![1][last![1].indexOf("data") + 1]!) as Cdc.TransactionCommitted
    const largeSeconds = (entryMs(last![0]) - Date.parse(lastData.commitTime)) / 1000
    const rssAfter = peakRssMb(connector.child.pid!)

    rows.push(
      "| run | changes | writer changes/s | CDC changes/s | commit→entry p50 | p99 | max |",
      "|---|---:|---:|---:|---:|---:|---:|",
      `| raw inserts, no CDC | ${fmt(changes)} | ${fmt(changes / rawSeconds)} | – | – | – | – |`,
      `| burst with CDC | ${fmt(changes)} | ${fmt(changes / burstSeconds)} | ${fmt(throughput(burst))} | ${burstLatency.p50} ms | ${burstLatency.p99} ms | ${burstLatency.max} ms |`,
      `| paced ${fmt(rate)}/s with CDC | ${fmt(pacedCount)} | ${fmt(rate)} (target) | – | ${pacedLatency.p50} ms | ${pacedLatency.p99} ms | ${pacedLatency.max} ms |`,
      `| backlog catch-up | ${fmt(changes)} | – | ${fmt(changes / drainSeconds)} | – | – | – |`,
      `| one transaction of ${fmt(large)} rows | ${fmt(large)} | – | ${fmt(large / largeSeconds)} | – | – | ${Math.round(largeSeconds * 1000)} ms (last row) |`
    )
    console.log(
      `\nCDC benchmark: ${rowsPerTransaction} inserts a transaction, ${writers} writer connections, Redis AOF everysec, ` +
        `batches of ${CdcConnector.defaults.batchSize}\n`
    )
    console.log(rows.join("\n"))
    console.log(
      `Connector peak memory (VmHWM): ${rssBefore.toFixed(0)} MB before the large transaction, ${rssAfter.toFixed(0)} MB after.`
    )
    console.log(
      `Backlog: first entry ${startSeconds.toFixed(1)} s after the connector process was started (process start, slot check).`
    )
  }
} finally {
  for (const c of connectors) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL")
  await Promise.all(connectors.map((c) => c.exited))
  await redis.close()
  await db.end()
  await postgres.stop()
  await redisServer.stop()
}
