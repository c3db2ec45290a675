// The connector against a real PostgreSQL (wal_level=logical) and Redis: values, commit order
// and transaction boundaries on the real systems-of-record schema, the snapshot hand-off on a
// busy database, a new column, and a Redis that lost its data.
import { Cdc } from "@bank/contracts"
import { Database } from "@bank/platform"
import { Effect } from "effect"
import type pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { usePostgres, useRedis } from "@bank/test-kit"
import { Migrations } from "@bank/records"
import * as CdcConnector from "./CdcConnector.ts"
import {
  createDatabase,
  redisClient,
  type Entry,
  keyOf,
  readEntries,
  readStreams,
  rebuild,
  rowChanges,
  startConnector,
  tableRows,
  textClient,
  waitUntil
} from "./testing/CdcTesting.ts"

const postgres = usePostgres()
const redisServer = useRedis()

let testNo = 0
/** Each test: its own database, slot and Redis database, so tests cannot see each other. */
const fresh = async (name: string) => {
  const n = ++testNo
  const databaseUrl = await createDatabase(postgres.server.url, `cdc_${name}`)
  const redisUrl = `${redisServer.server.url}/${n}`
  const redis = await redisClient(redisUrl)
  const db = await textClient(databaseUrl)
  cleanups.push(async () => {
    await redis.close()
    await db.end()
  })
  return { databaseUrl, redisUrl, redis, db, slot: `cdc_${name}` }
}
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup()
})

const transactionCommitted = (entries: ReadonlyArray<Entry>, xid: number) =>
  entries.some((e) => e.payload._tag === "TransactionCommitted" && e.payload.xid === xid)

/** Runs `sql` in one transaction; returns its xid. */
const inTransaction = async (db: pg.Client, ...statements: Array<[string, Array<unknown>?]>) => {
  await db.query("BEGIN")
  const [{ xid }] = (await db.query("SELECT txid_current()::text AS xid")).rows as [{ xid: string }]
  for (const [sql, params] of statements) await db.query(sql, params)
  await db.query("COMMIT")
  return Number(xid)
}

describe("CDC on the systems of record", () => {
  let env: Awaited<ReturnType<typeof fresh>>
  let stop: () => Promise<void>
  beforeAll(async () => {
    env = await fresh("records")
    await Effect.runPromise(Migrations.migrate().pipe(Effect.provide(Database.layer(env.databaseUrl))))
    // Exact-value probe beside the real tables, in a captured schema.
    await env.db.query(
      "CREATE TABLE deposits.cdc_probe (id bigint PRIMARY KEY, big bigint, amount numeric, label text, note text)"
    )
    stop = (await startConnector(env.redisUrl, { databaseUrl: env.databaseUrl, slot: env.slot })).stop
    await waitUntil("the snapshot", async () => (await env.redis.exists(CdcConnector.keys(env.slot).snapshot)) === 1)
  })
  afterAll(async () => {
    await stop?.()
  })

  it("inserts, updates and deletes of every system arrive in their stream, in commit order, with exact values", async () => {
    const { db } = env
    const xids: Array<number> = []
    xids.push(
      await inTransaction(db, [
        `INSERT INTO customer.customers (customer_id, given_name, family_name, email, address_line1, postal_code, city, country, date_of_birth, segment)
       VALUES (1, 'Zoë', 'Ångström', 'zoe@example.com', 'Hauptstraße 1', '1010', 'Wien', 'AT', '1990-02-03', 'retail')`
      ])
    )
    xids.push(
      await inTransaction(db, [
        `INSERT INTO crm.preferences (customer_id, language, theme) VALUES (1, 'de-AT', 'dark')`
      ])
    )
    xids.push(
      await inTransaction(db, [
        `INSERT INTO deposits.accounts (account_id, customer_id, iban, product, name, currency, opened_on)
       VALUES (10, 1, 'AT611904300234573201', 'current', 'Girokonto', 'EUR', '2024-01-02')`
      ])
    )
    xids.push(
      await inTransaction(db, [
        `INSERT INTO cards.cards (card_id, customer_id, product, network, pan_last4, expires_on, currency, credit_limit, available_credit, interest_rate, opened_on)
       VALUES (20, 1, 'gold', 'visa', '4242', '2030-01-31', 'EUR', 500000, 500000, 19.9900, '2024-01-02')`
      ])
    )
    xids.push(
      await inTransaction(db, [
        `INSERT INTO lending.loans (loan_id, customer_id, product, currency, principal, outstanding, interest_rate, term_months, start_date, maturity_date, next_instalment_date, next_instalment_amount)
       VALUES (30, 1, 'personal', 'EUR', 1000000, 1000000, 4.5000, 36, '2024-01-01', '2027-01-01', '2024-02-01', 29747)`
      ])
    )
    xids.push(
      await inTransaction(db, [
        `INSERT INTO investments.instruments (isin, symbol, name, asset_class, currency) VALUES ('US0378331005', 'AAPL', 'Apple Inc.', 'equity', 'USD')`
      ])
    )
    xids.push(
      await inTransaction(db, [
        `UPDATE deposits.accounts SET balance = 150000, available_balance = 150000 WHERE account_id = 10`
      ])
    )
    xids.push(
      await inTransaction(db, [`UPDATE cards.cards SET balance = 1999, available_credit = 498001 WHERE card_id = 20`])
    )
    xids.push(await inTransaction(db, [`DELETE FROM investments.instruments WHERE isin = 'US0378331005'`]))
    xids.push(await inTransaction(db, [`UPDATE lending.loans SET outstanding = 970253 WHERE loan_id = 30`]))
    xids.push(await inTransaction(db, [`DELETE FROM crm.preferences WHERE customer_id = 1`]))
    xids.push(
      await inTransaction(db, [
        "INSERT INTO deposits.cdc_probe VALUES ($1, $2, $3, $4, NULL)",
        ["1", "9223372036854775807", "12345678901234567.89", "Grüße aus 東京 🏦"]
      ])
    )
    xids.push(
      await inTransaction(db, ["UPDATE deposits.cdc_probe SET amount = amount + 0.01, note = 'x' WHERE id = 1"])
    )
    xids.push(await inTransaction(db, ["DELETE FROM deposits.cdc_probe WHERE id = 1"]))
    // Begun first, committed last: commit order is what counts.
    const other = await textClient(env.databaseUrl)
    await other.query("BEGIN")
    await other.query("UPDATE customer.customers SET segment = 'premier' WHERE customer_id = 1")
    const early = Number((await other.query("SELECT txid_current()::text AS xid")).rows[0].xid)
    const late = await inTransaction(db, ["UPDATE cards.cards SET status = 'blocked' WHERE card_id = 20"])
    await other.query("COMMIT")
    await other.end()
    xids.push(late, early)

    let streams = new Map<string, Array<Entry>>()
    await waitUntil("every transaction", async () => {
      streams = await readStreams(env.redis, Cdc.systems)
      return [...streams.values()].some((entries) => transactionCommitted(entries, early))
    })
    const streamed = (system: string) => rowChanges(streams.get(system)!).filter((c) => c.op !== "snapshot")
    const summary = (system: string) => streamed(system).map((c) => [c.table, c.op, keyOf(c.key)])

    expect(summary("customer")).toEqual([
      ["customers", "insert", keyOf({ customer_id: "1" })],
      ["customers", "update", keyOf({ customer_id: "1" })]
    ])
    expect(summary("crm")).toEqual([
      ["preferences", "insert", keyOf({ customer_id: "1" })],
      ["preferences", "delete", keyOf({ customer_id: "1" })]
    ])
    expect(summary("deposits")).toEqual([
      ["accounts", "insert", keyOf({ account_id: "10" })],
      ["accounts", "update", keyOf({ account_id: "10" })],
      ["cdc_probe", "insert", keyOf({ id: "1" })],
      ["cdc_probe", "update", keyOf({ id: "1" })],
      ["cdc_probe", "delete", keyOf({ id: "1" })]
    ])
    expect(summary("cards")).toEqual([
      ["cards", "insert", keyOf({ card_id: "20" })],
      ["cards", "update", keyOf({ card_id: "20" })],
      ["cards", "update", keyOf({ card_id: "20" })]
    ])
    expect(summary("lending")).toEqual([
      ["loans", "insert", keyOf({ loan_id: "30" })],
      ["loans", "update", keyOf({ loan_id: "30" })]
    ])
    expect(summary("investments")).toEqual([
      ["instruments", "insert", keyOf({ isin: "US0378331005" })],
      ["instruments", "delete", keyOf({ isin: "US0378331005" })]
    ])

    // Commit order: sorting every change by its commit LSN gives the order we committed in.
    const all = [...streams.values()].flatMap((entries) => rowChanges(entries)).filter((c) => c.op !== "snapshot")
    const byLsn = [...all].sort((a, b) => Cdc.comparePositions(a, b))
    expect([...new Set(byLsn.map((c) => c.xid))]).toEqual(xids)

    const [probeInsert, probeUpdate, probeDelete] = streamed("deposits").filter((c) => c.table === "cdc_probe")
    expect(probeInsert!.new).toEqual({
      id: "1",
      big: "9223372036854775807",
      amount: "12345678901234567.89",
      label: "Grüße aus 東京 🏦",
      note: null
    })
    expect(probeUpdate!.new).toMatchObject({ amount: "12345678901234567.90", note: "x" })
    expect(probeDelete!.key).toEqual({ id: "1" })

    // The real tables have REPLICA IDENTITY FULL: updates carry the row before, and everything
    // of a customer is keyed by the customer.
    const balance = streamed("deposits").find((c) => c.table === "accounts" && c.op === "update")!
    expect([balance.old?.["balance"], balance.new?.["balance"], balance.new?.["interest_rate"]]).toEqual([
      "0",
      "150000",
      "0.0000"
    ])
    const depositsEntries = streams
      .get("deposits")!
      .filter((e) => e.payload._tag === "RowChanged" && e.payload.table === "accounts")
    expect(depositsEntries.map((e) => e.key)).toEqual(["1", "1"])
    const customer = streamed("customer")[0]!
    expect(customer.new).toMatchObject({
      given_name: "Zoë",
      date_of_birth: "1990-02-03",
      roles: "{customer}",
      phone: null
    })
    expect(customer.new?.["created_at"]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\+00$/)
  })

  it("keeps a transaction together: shared xid and commit LSN, and a TransactionCommitted per touched stream", async () => {
    const xid = await inTransaction(
      env.db,
      [
        `INSERT INTO customer.customers (customer_id, given_name, family_name, email, address_line1, postal_code, city, country, date_of_birth, segment)
        VALUES (2, 'Ada', 'Lovelace', 'ada@example.com', '1 St James Sq', 'SW1Y', 'London', 'GB', '1985-12-10', 'private')`
      ],
      [
        `INSERT INTO deposits.accounts (account_id, customer_id, iban, product, name, currency, opened_on)
        VALUES (11, 2, 'GB82WEST12345698765432', 'current', 'Current', 'GBP', '2024-03-01'),
               (12, 2, 'GB33BUKB20201555555555', 'savings', 'Savings', 'GBP', '2024-03-01')`
      ],
      [
        `INSERT INTO cards.cards (card_id, customer_id, product, network, pan_last4, expires_on, currency, credit_limit, available_credit, interest_rate, opened_on)
        VALUES (21, 2, 'classic', 'mastercard', '0005', '2029-06-30', 'GBP', 100000, 100000, 22.5000, '2024-03-01')`
      ],
      ["UPDATE deposits.accounts SET balance = 5000, available_balance = 5000 WHERE account_id = 11"]
    )
    let streams = new Map<string, Array<Entry>>()
    await waitUntil("the transaction", async () => {
      streams = await readStreams(env.redis, ["customer", "deposits", "cards", "crm"])
      return transactionCommitted(streams.get("cards")!, xid) && transactionCommitted(streams.get("deposits")!, xid)
    })
    const ofTx = (system: string) =>
      streams
        .get(system)!
        .filter(
          (e) =>
            e.payload._tag !== "SnapshotStarted" &&
            e.payload._tag !== "SnapshotCompleted" &&
            (e.payload as { xid: number }).xid === xid
        )
    const changes = ["customer", "deposits", "cards"].flatMap((s) => rowChanges(ofTx(s)))
    expect(new Set(changes.map((c) => c.commitLsn)).size).toBe(1)
    expect(changes.map((c) => c.seq).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4])
    for (const [system, count] of [
      ["customer", 1],
      ["deposits", 3],
      ["cards", 1]
    ] as const) {
      const entries = ofTx(system)
      // The changes first, in seq order, then the commit with the counts.
      expect(entries.map((e) => e.payload._tag)).toEqual([...Array(count).fill("RowChanged"), "TransactionCommitted"])
      expect(rowChanges(entries).map((c) => c.seq)).toEqual(
        [...rowChanges(entries).map((c) => c.seq)].sort((a, b) => a - b)
      )
      expect(entries.at(-1)!.payload).toMatchObject({
        _tag: "TransactionCommitted",
        xid,
        changes: count,
        total: 5,
        seq: 5,
        commitLsn: changes[0]!.commitLsn
      })
      // One customer's transaction: the commit has the customer's key, like its changes.
      expect(new Set(entries.map((e) => e.key))).toEqual(new Set(["2"]))
    }
    expect(ofTx("crm")).toEqual([])
  })
})

describe("CDC hand-off and schema changes", () => {
  it("snapshot + streaming on a busy database neither misses nor doubles a change", async () => {
    const env = await fresh("busy")
    const { db } = env
    await db.query(`CREATE SCHEMA deposits;
      CREATE TABLE deposits.accounts (account_id bigint PRIMARY KEY, customer_id bigint NOT NULL, balance bigint NOT NULL, version integer NOT NULL);
      INSERT INTO deposits.accounts SELECT i, i % 97, 0, 1 FROM generate_series(1, 3000) i`)
    // A writer that keeps committing while the connector starts: updates bump `version`, so a
    // missed change shows as a gap and a doubled one as a repeat.
    let writing = true
    let transactions = 0
    let nextId = 3001
    const writer = async () => {
      const w = await textClient(env.databaseUrl)
      while (writing) {
        const id = 1 + Math.floor(Math.random() * (nextId - 1))
        await w.query("BEGIN")
        await w.query(
          "UPDATE deposits.accounts SET balance = balance + 100, version = version + 1 WHERE account_id IN ($1, $2)",
          [id, (id * 7) % nextId || 1]
        )
        if (transactions % 5 === 0)
          await w
            .query("INSERT INTO deposits.accounts VALUES ($1, $2, 100, 1)", [nextId, nextId % 97])
            .then(() => nextId++)
        if (transactions % 7 === 0)
          await w.query("DELETE FROM deposits.accounts WHERE account_id = $1", [1 + Math.floor(Math.random() * 3000)])
        await w.query("COMMIT")
        transactions++
      }
      await w.end()
    }
    const writing1 = writer()
    await waitUntil("the writer to get going", () => transactions >= 50)
    const { connector, stop } = await startConnector(env.redisUrl, {
      databaseUrl: env.databaseUrl,
      slot: env.slot,
      schemas: ["deposits"],
      snapshotPageSize: 200
    })
    try {
      await waitUntil("the snapshot", async () => (await env.redis.exists(CdcConnector.keys(env.slot).snapshot)) === 1)
      const atSnapshot = transactions
      await waitUntil("more transactions after the snapshot", () => transactions >= atSnapshot + 300)
      writing = false
      await writing1
      const [{ lsn }] = (await db.query("SELECT pg_current_wal_lsn()::text AS lsn")).rows as [{ lsn: string }]
      await waitUntil(
        "the connector to catch up",
        async () => (await Effect.runPromise(connector.metrics)).confirmedLsn >= Cdc.lsnToBigInt(lsn)
      )

      const entries = await readEntries(env.redis, "deposits")
      const rebuilt = rebuild(new Map([["deposits", entries]]))
      expect(rebuilt.duplicates).toBe(0)
      expect(rebuilt.tables.get("deposits.accounts")).toEqual(await tableRows(db, "deposits.accounts", ["account_id"]))

      // Per row: the snapshot's version, then +1 per streamed update; never a gap or a repeat.
      const snapshotLsn = (entries.find((e) => e.payload._tag === "SnapshotStarted")!.payload as Cdc.SnapshotStarted)
        .commitLsn
      const versions = new Map<string, number>()
      let streamedTransactions = 0
      for (const change of rowChanges(entries)) {
        const key = change.key["account_id"]!
        const version = Number(change.new?.["version"])
        if (change.op === "snapshot" || change.op === "insert") {
          expect(versions.has(key), `row ${key} appears twice`).toBe(false)
          versions.set(key, version)
        } else if (change.op === "update") {
          expect(version, `row ${key}`).toBe(versions.get(key)! + 1)
          versions.set(key, version)
        } else if (change.op === "delete") {
          versions.delete(key)
        }
        if (change.op !== "snapshot")
          expect(Cdc.lsnToBigInt(change.commitLsn) > Cdc.lsnToBigInt(snapshotLsn)).toBe(true)
        if (change.op !== "snapshot" && change.seq === 0) streamedTransactions++
      }
      // The writer really was busy on both sides of the hand-off.
      expect([...versions.values()].some((v) => v > 1)).toBe(true)
      expect(streamedTransactions).toBeGreaterThanOrEqual(300)
    } finally {
      writing = false
      await stop()
    }
  })

  it("a column added while running keeps changes flowing and shows in new rows", async () => {
    const env = await fresh("ddl")
    await env.db.query(
      `CREATE SCHEMA crm; CREATE TABLE crm.interests (customer_id bigint, interest text, score smallint, PRIMARY KEY (customer_id, interest))`
    )
    const { stop } = await startConnector(env.redisUrl, {
      databaseUrl: env.databaseUrl,
      slot: env.slot,
      schemas: ["crm"]
    })
    try {
      await waitUntil("the snapshot", async () => (await env.redis.exists(CdcConnector.keys(env.slot).snapshot)) === 1)
      await env.db.query("INSERT INTO crm.interests VALUES (1, 'travel', 50)")
      await env.db.query("ALTER TABLE crm.interests ADD COLUMN source text NOT NULL DEFAULT 'survey'")
      await env.db.query("INSERT INTO crm.interests VALUES (1, 'investing', 80, 'app')")
      await env.db.query("UPDATE crm.interests SET score = 55 WHERE interest = 'travel'")
      await env.db.query("INSERT INTO crm.interests VALUES (2, 'sports', 10)")
      let changes: Array<Cdc.RowChanged> = []
      await waitUntil("the changes after the ALTER", async () => {
        changes = rowChanges(await readEntries(env.redis, "crm"))
        return changes.length === 4
      })
      expect(changes.map((c) => c.new)).toEqual([
        { customer_id: "1", interest: "travel", score: "50" },
        { customer_id: "1", interest: "investing", score: "80", source: "app" },
        { customer_id: "1", interest: "travel", score: "55", source: "survey" },
        { customer_id: "2", interest: "sports", score: "10", source: "survey" }
      ])
    } finally {
      await stop()
    }
  })

  it("refills a Redis that lost its data: the slot is recreated and a new snapshot taken", async () => {
    const env = await fresh("wiped")
    await env.db.query(
      `CREATE SCHEMA lending; CREATE TABLE lending.loans (loan_id bigint PRIMARY KEY, customer_id bigint, outstanding bigint)`
    )
    await env.db.query("INSERT INTO lending.loans VALUES (1, 7, 1000)")
    const first = await startConnector(env.redisUrl, {
      databaseUrl: env.databaseUrl,
      slot: env.slot,
      schemas: ["lending"]
    })
    await waitUntil("the snapshot", async () => (await env.redis.exists(CdcConnector.keys(env.slot).snapshot)) === 1)
    await first.stop()
    await env.redis.flushDb() // this test's own Redis database
    await env.db.query("UPDATE lending.loans SET outstanding = 900 WHERE loan_id = 1")
    await env.db.query("INSERT INTO lending.loans VALUES (2, 8, 5000)")
    const second = await startConnector(env.redisUrl, {
      databaseUrl: env.databaseUrl,
      slot: env.slot,
      schemas: ["lending"]
    })
    try {
      await waitUntil(
        "a new snapshot",
        async () => (await env.redis.exists(CdcConnector.keys(env.slot).snapshot)) === 1
      )
      const entries = await readEntries(env.redis, "lending")
      expect(entries.map((e) => e.payload._tag)).toEqual([
        "SnapshotStarted",
        "RowChanged",
        "RowChanged",
        "SnapshotCompleted"
      ])
      expect(rebuild(new Map([["lending", entries]])).tables.get("lending.loans")).toEqual(
        await tableRows(env.db, "lending.loans", ["loan_id"])
      )
      // And it streams again from the new slot.
      await env.db.query("DELETE FROM lending.loans WHERE loan_id = 2")
      await waitUntil("the delete", async () =>
        rowChanges(await readEntries(env.redis, "lending")).some((c) => c.op === "delete")
      )
    } finally {
      await second.stop()
    }
  })
})
