// The connector as the process it runs as (packages/cdc/src/main.ts): killed with SIGKILL in the middle
// of a burst it loses nothing, and while it is stopped the slot's lag is visible and grows.
// Runs on a single Redis and, in the e2e-cluster project (TEST_REDIS_TOPOLOGY=cluster), on a private
// 6-node Redis Cluster. The tests share the suite's Redis (a cluster has database 0 only): each test
// has its own replication slot and its own schemas, so its snapshot marker, lag key and streams
// are its own keys.
import { Cdc } from "@bank/contracts"
import { Effect } from "effect"
import pg from "pg"
import { afterAll, describe, expect, it } from "vitest"
import { freePort, type LocalRedisCluster, testTopology, usePostgres, useRedis } from "@bank/test-kit"
import * as CdcConnector from "./CdcConnector.ts"
import {
  createDatabase,
  redisClient,
  type Entry,
  readStreams,
  rebuild,
  rowChanges,
  spawnConnector,
  startConnector,
  tableRows,
  textClient,
  waitUntil
} from "./testing/CdcTesting.ts"

const postgres = usePostgres()
const redisServer = useRedis({ appendonly: true })

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

const fresh = async (name: string, ddl: string) => {
  const databaseUrl = await createDatabase(postgres.server.url, `cdc_${name}`)
  const redisUrl = redisServer.server.url
  const redis = await redisClient(redisUrl)
  const db = await textClient(databaseUrl)
  await db.query(ddl)
  cleanups.push(async () => {
    await redis.close()
    await db.end()
  })
  const slot = `cdc_${name}`
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    CDC_SLOT: slot,
    CDC_LAG_INTERVAL_MS: "1000",
    CDC_STANDBY_POLL_MS: "200"
  }
  const snapshotDone = () =>
    waitUntil("the snapshot", async () => (await redis.exists(CdcConnector.keys(slot).snapshot)) === 1, 60_000)
  return { databaseUrl, redisUrl, redis, db, slot, env, snapshotDone }
}

const spawn = (env: Record<string, string>) => {
  const connector = spawnConnector(env)
  cleanups.push(async () => {
    if (connector.child.exitCode === null && connector.child.signalCode === null) connector.child.kill("SIGKILL")
    await connector.exited
  })
  return connector
}

describe("CDC connector process", () => {
  it("SIGKILL during a burst of 10,000 committed changes, then a restart: every change is in Redis", async () => {
    const env = await fresh(
      "crash",
      `
      CREATE SCHEMA deposits; CREATE SCHEMA cards;
      CREATE TABLE deposits.accounts (account_id bigint PRIMARY KEY, customer_id bigint NOT NULL, balance bigint NOT NULL);
      CREATE TABLE deposits.transactions (transaction_id bigint PRIMARY KEY, account_id bigint NOT NULL, customer_id bigint NOT NULL, amount bigint NOT NULL, description text);
      CREATE TABLE cards.transactions (transaction_id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount bigint NOT NULL, merchant text);
      INSERT INTO deposits.accounts SELECT i, i, 0 FROM generate_series(1, 100) i;`
    )
    const streamEnv = { ...env.env, CDC_SCHEMAS: "deposits,cards", CDC_BATCH_SIZE: "200" }
    const first = spawn(streamEnv)
    await env.snapshotDone()
    if (testTopology() === "cluster") {
      // The two streams and the snapshot marker live on three different masters: the connector's
      // writes really spread over the cluster.
      const cluster = redisServer.server as LocalRedisCluster
      const owners = await Promise.all(
        ["stream:{s:cdc.deposits.p0}", "stream:{s:cdc.cards.p0}", CdcConnector.keys(env.slot).snapshot].map((key) =>
          cluster.masterOf(key)
        )
      )
      expect(new Set(owners.map((n) => n.port)).size).toBe(3)
    }

    // 2,000 transactions of 5 changes each, from 4 connections: 2 deposits transactions, an
    // account balance update, a card transaction and its update.
    const transactions = 2000
    const changesPerTransaction = 5
    let committed = 0
    const writer = async (lane: number) => {
      const w = new pg.Client({ connectionString: env.databaseUrl })
      await w.connect()
      for (let t = lane; t < transactions; t += 4) {
        const customer = 1 + (t % 100)
        await w.query("BEGIN")
        await w.query(
          "INSERT INTO deposits.transactions VALUES ($1, $2, $2, -1999, 'Café ☕'), ($3, $2, $2, 250000, 'Salary')",
          [2 * t, customer, 2 * t + 1]
        )
        await w.query("UPDATE deposits.accounts SET balance = balance + 248001 WHERE account_id = $1", [customer])
        await w.query("INSERT INTO cards.transactions VALUES ($1, $2, 4500, 'Bäckerei')", [t, customer])
        await w.query("UPDATE cards.transactions SET amount = 4550 WHERE transaction_id = $1", [t])
        await w.query("COMMIT")
        committed++
      }
      await w.end()
    }
    const burst = Promise.all([0, 1, 2, 3].map(writer))
    const streamLength = async () =>
      (await env.redis.xLen("stream:{s:cdc.deposits.p0}")) + (await env.redis.xLen("stream:{s:cdc.cards.p0}"))
    await waitUntil(
      "the connector to be part-way through the burst",
      async () => (await streamLength()) >= 3000,
      60_000
    )
    first.child.kill("SIGKILL")
    const committedAtKill = committed
    await first.exited
    const atKill = await streamLength()
    await burst
    expect(committed).toBe(transactions)
    expect(committedAtKill, "killed while the burst was still being committed").toBeLessThan(transactions)
    expect(atKill, "killed before it had everything").toBeLessThan(transactions * (changesPerTransaction + 2))

    const second = spawn(streamEnv)
    let streams = new Map<string, Array<Entry>>()
    const distinctChanges = () => {
      const positions = new Set<string>()
      for (const entries of streams.values())
        for (const c of rowChanges(entries)) if (c.op !== "snapshot") positions.add(`${c.commitLsn}#${c.seq}`)
      return positions.size
    }
    await waitUntil(
      "every committed change",
      async () => {
        streams = await readStreams(env.redis, ["deposits", "cards"])
        return distinctChanges() >= transactions * changesPerTransaction
      },
      30_000
    ).catch((error) => {
      throw new Error(
        `${error.message}: ${distinctChanges()} of ${transactions * changesPerTransaction}; connector output:\n${second.output().slice(-3000)}`
      )
    })
    expect(distinctChanges()).toBe(transactions * changesPerTransaction)

    // A duplicate is only ever an exact copy of an entry at a position already seen.
    let duplicates = 0
    for (const entries of streams.values()) {
      let last: Cdc.Position | undefined
      const seen = new Map<string, Cdc.CdcMessage>()
      for (const { payload } of entries) {
        const at = `${payload.commitLsn}#${payload.seq}`
        if (Cdc.isNewer(payload, last)) {
          last = payload
          seen.set(at, payload)
        } else {
          duplicates++
          expect(seen.get(at), `duplicate at ${at}`).toEqual(payload)
        }
      }
      // Resumed from the slot, not from a second snapshot.
      expect(entries.filter((e) => e.payload._tag === "SnapshotStarted")).toHaveLength(1)
    }
    // Every transaction complete: 3 changes on deposits and 2 on cards, each stream closed
    // by a TransactionCommitted with those counts.
    const perTransaction = new Map<number, Map<string, number>>()
    for (const [system, entries] of streams) {
      for (const { payload } of entries) {
        if (payload._tag !== "TransactionCommitted") continue
        expect(payload.total).toBe(changesPerTransaction)
        const counts = perTransaction.get(payload.xid) ?? new Map<string, number>()
        counts.set(system, payload.changes)
        perTransaction.set(payload.xid, counts)
      }
    }
    expect(perTransaction.size).toBe(transactions)
    for (const counts of perTransaction.values()) expect(Object.fromEntries(counts)).toEqual({ deposits: 3, cards: 2 })

    const rebuilt = rebuild(streams)
    expect(rebuilt.duplicates).toBe(duplicates)
    expect(rebuilt.tables.get("deposits.transactions")).toEqual(
      await tableRows(env.db, "deposits.transactions", ["transaction_id"])
    )
    expect(rebuilt.tables.get("deposits.accounts")).toEqual(
      await tableRows(env.db, "deposits.accounts", ["account_id"])
    )
    expect(rebuilt.tables.get("cards.transactions")).toEqual(
      await tableRows(env.db, "cards.transactions", ["transaction_id"])
    )
  })

  it("exposes the slot lag, which grows while the connector is stopped and falls when it resumes", async () => {
    const env = await fresh(
      "lag",
      `CREATE SCHEMA lending; CREATE TABLE lending.loans (loan_id bigint PRIMARY KEY, customer_id bigint, outstanding bigint, memo text)`
    )
    const active = spawn({ ...env.env, CDC_SCHEMAS: "lending" })
    await env.snapshotDone()
    // A second instance stands by and serves the metrics while the active one is stopped.
    const port = await freePort()
    const standby = await startConnector(env.redisUrl, {
      databaseUrl: env.databaseUrl,
      slot: env.slot,
      schemas: ["lending"],
      metricsPort: port,
      lagIntervalMs: 100,
      standbyPollMs: 200
    })
    cleanups.push(standby.stop)
    const scrape = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      const metric = (name: string) => {
        const match = new RegExp(`^${name}\\{slot="${env.slot}"[^}]*\\} (\\S+)$`, "m").exec(text)
        return match ? Number(match[1]) : undefined
      }
      return { text, lag: metric("cdc_slot_lag_bytes"), sampledAt: metric("cdc_slot_sampled_timestamp_seconds") }
    }
    const nextSample = async () => {
      const before = (await scrape()).sampledAt ?? 0
      let sample = await scrape()
      await waitUntil("a new lag sample", async () => ((sample = await scrape()).sampledAt ?? 0) > before)
      return sample
    }
    const write = (from: number) =>
      env.db.query(
        "INSERT INTO lending.loans SELECT i, i, 100000, repeat('x', 200) FROM generate_series($1::int, $1::int + 999) i",
        [from]
      )

    await waitUntil("the standby role", async () =>
      (await scrape()).text.includes(`cdc_role{slot="${env.slot}",role="standby"} 1`)
    )
    expect((await nextSample()).lag).toBeLessThan(64 * 1024)

    active.child.kill("SIGSTOP")
    try {
      await write(1)
      const stopped1 = (await nextSample()).lag!
      await write(1001)
      const stopped2 = (await nextSample()).lag!
      expect(stopped1).toBeGreaterThan(100 * 1024)
      expect(stopped2).toBeGreaterThan(stopped1)
      const inRedis = JSON.parse((await env.redis.get(CdcConnector.keys(env.slot).lag))!)
      expect(inRedis.lagBytes).toBeGreaterThanOrEqual(stopped1)
    } finally {
      active.child.kill("SIGCONT")
    }
    await waitUntil(
      "the lag to fall once the connector resumes",
      async () => ((await nextSample()).lag ?? Infinity) < 64 * 1024
    )

    // SIGTERM stops the active connector cleanly, and the standby takes over the slot.
    await write(2001)
    active.child.kill("SIGTERM")
    await active.exited
    // It exited by itself (Effect's runMain reports an interrupted program as 130), not by a signal.
    expect([active.child.exitCode, active.child.signalCode], active.output().slice(-2000)).toEqual([130, null])
    await waitUntil(
      "the standby to take over",
      async () => (await Effect.runPromise(standby.connector.metrics)).role === "streaming"
    )
    await waitUntil("the rows written after the take-over", async () => {
      const entries = (await readStreams(env.redis, ["lending"])).get("lending")!
      return rowChanges(entries).filter((c) => c.op === "insert").length >= 3000
    })
  })

  it("reconnects after PostgreSQL and Redis restart, and loses nothing", async () => {
    const env = await fresh(
      "restarts",
      "CREATE SCHEMA customer; CREATE TABLE customer.customers (customer_id bigint PRIMARY KEY, name text)"
    )
    const { connector, stop } = await startConnector(env.redisUrl, {
      databaseUrl: env.databaseUrl,
      slot: env.slot,
      schemas: ["customer"]
    })
    cleanups.push(stop)
    await env.snapshotDone()
    const arrived = (count: number) =>
      waitUntil(`${count} inserts`, () =>
        // A Redis that just restarted answers LOADING for a moment: ask again.
        readStreams(env.redis, ["customer"]).then(
          (s) => rowChanges(s.get("customer")!).length >= count,
          () => false
        )
      )
    const insert = async (from: number) => {
      const db = await textClient(env.databaseUrl)
      await db.query(
        "INSERT INTO customer.customers SELECT i, 'customer ' || i FROM generate_series($1::int, $1::int + 99) i",
        [from]
      )
      await db.end()
    }
    await insert(1)
    await arrived(100)
    // WAL from another database just before the restart: the connector has been sent positions
    // it has not confirmed yet, so the fast shutdown waits for its confirmation (which an
    // in-process connector can only give while the event loop runs).
    const other = await textClient(postgres.server.url)
    await other.query(
      "CREATE TABLE IF NOT EXISTS restart_pad (i int); INSERT INTO restart_pad SELECT generate_series(1, 20000)"
    )
    await other.end()
    await postgres.server.restart()
    await insert(101)
    await arrived(200)
    await redisServer.server.restart()
    await insert(201)
    await arrived(300)

    const metrics = await Effect.runPromise(connector.metrics)
    expect(metrics.sessionFailures).toBeGreaterThanOrEqual(1)
    const entries = (await readStreams(env.redis, ["customer"])).get("customer")!
    expect(entries.filter((e) => e.payload._tag === "SnapshotStarted")).toHaveLength(1)
    const db = await textClient(env.databaseUrl)
    try {
      expect(rebuild(new Map([["customer", entries]])).tables.get("customer.customers")).toEqual(
        await tableRows(db, "customer.customers", ["customer_id"])
      )
    } finally {
      await db.end()
    }
  })

  it("recovers from a slot PostgreSQL gave up on (max_slot_wal_keep_size) with a new snapshot", async () => {
    const env = await fresh(
      "lost",
      "CREATE SCHEMA investments; CREATE TABLE investments.accounts (account_id bigint PRIMARY KEY, customer_id bigint, market_value bigint)"
    )
    await env.db.query("INSERT INTO investments.accounts SELECT i, i, 1000 FROM generate_series(1, 50) i")
    const first = await startConnector(env.redisUrl, {
      databaseUrl: env.databaseUrl,
      slot: env.slot,
      schemas: ["investments"]
    })
    await env.snapshotDone()
    await first.stop()
    const admin = await textClient(postgres.server.url)
    try {
      // The abandoned slot: while nobody reads it, more WAL is written than the limit allows.
      await admin.query("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'")
      await admin.query("SELECT pg_reload_conf()")
      await env.db.query("UPDATE investments.accounts SET market_value = 2000 WHERE account_id <= 10")
      await env.db.query("CREATE TABLE public.filler (id int, pad text)")
      await waitUntil("the slot to be lost", async () => {
        await env.db.query("INSERT INTO public.filler SELECT i, repeat('x', 500) FROM generate_series(1, 20000) i")
        await env.db.query("SELECT pg_switch_wal()")
        await env.db.query("CHECKPOINT")
        const [slot] = (
          await env.db.query("SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1", [env.slot])
        ).rows
        return slot?.wal_status === "lost"
      })
    } finally {
      await admin.query("ALTER SYSTEM RESET max_slot_wal_keep_size")
      await admin.query("SELECT pg_reload_conf()")
      await admin.end()
    }
    const second = await startConnector(env.redisUrl, {
      databaseUrl: env.databaseUrl,
      slot: env.slot,
      schemas: ["investments"]
    })
    cleanups.push(second.stop)
    let entries: Array<Entry> = []
    await waitUntil("a second snapshot", async () => {
      entries = (await readStreams(env.redis, ["investments"])).get("investments")!
      return entries.filter((e) => e.payload._tag === "SnapshotCompleted").length === 2
    })
    // The updates made while the slot was abandoned reach consumers through the new snapshot.
    expect(rebuild(new Map([["investments", entries]])).tables.get("investments.accounts")).toEqual(
      await tableRows(env.db, "investments.accounts", ["account_id"])
    )
    await env.db.query("DELETE FROM investments.accounts WHERE account_id = 1")
    await waitUntil("streaming again", async () =>
      rowChanges((await readStreams(env.redis, ["investments"])).get("investments")!).some((c) => c.op === "delete")
    )
  })
})
