import { Database, PasswordHash } from "@bank/platform"
import { Effect, ManagedRuntime } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { usePostgres } from "@bank/test-kit"
import { DEMO_PASSWORD, seed, seedIfEmpty } from "./Generator.ts"
import { Ledgers } from "@bank/records"

const TABLES = [
  "customer.customers",
  "customer.credentials",
  "crm.preferences",
  "crm.wish_list_items",
  "crm.interests",
  "deposits.accounts",
  "deposits.transactions",
  "cards.cards",
  "cards.transactions",
  "lending.loans",
  "lending.transactions",
  "investments.instruments",
  "investments.accounts",
  "investments.holdings",
  "investments.transactions"
]

describe("Generator", () => {
  const pg = usePostgres()
  let runtime: ManagedRuntime.ManagedRuntime<Database.Database, never>
  const run = <A, E>(effect: Effect.Effect<A, E, Database.Database>) => runtime.runPromise(effect)
  const query = <A extends object>(sql: string, params?: ReadonlyArray<unknown>) =>
    run(Database.Database.use((db) => db.query<A>(sql, params)))
  // Small and quick: 50 customers, a handful of password hashes, a fixed as-of date.
  const options = { customers: 50, months: 2, asOf: "2025-03-10", hashPool: 4, progress: false }
  const checksum = async () => {
    const parts = await Promise.all(
      TABLES.map((t) =>
        query<{ digest: string; rows: string }>(
          `SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS digest, count(*) AS rows FROM ${t} t`
        )
      )
    )
    return parts.map(([p], i) => `${TABLES[i]}:${p!.rows}:${p!.digest}`).join("\n")
  }
  let first: string

  beforeAll(async () => {
    runtime = ManagedRuntime.make(Database.layer(pg.server.url))
    const summary = await run(seed(pg.server.url, { ...options, seed: "7" }))
    expect(summary.migrated.length).toBeGreaterThan(0)
    expect(summary.customers).toBe(50)
    first = await checksum()
  })
  afterAll(() => runtime?.dispose())

  it("gives every customer a log-in demo<n> whose scrypt hash verifies demo-password and nothing else", async () => {
    const rows = await query<{ username: string; password_hash: string }>(
      "SELECT username, password_hash FROM customer.credentials WHERE username IN ('demo1', 'demo50') ORDER BY username"
    )
    expect(rows.map((r) => r.username)).toEqual(["demo1", "demo50"])
    const demo1 = rows[0]!.password_hash
    expect(demo1).toMatch(/^scrypt\$N=16384,r=8,p=1\$/)
    expect(await Effect.runPromise(PasswordHash.verify(DEMO_PASSWORD, demo1))).toBe(true)
    expect(await Effect.runPromise(PasswordHash.verify("Demo-password", demo1))).toBe(false)
  })

  it("keeps every account's balance equal to the sum of its entries and its last running balance", async () => {
    expect(await run(Ledgers.check())).toEqual([])
    // The same rule asked directly, for the deposits and the cards.
    const off = await query(`
      SELECT a.account_id FROM deposits.accounts a
      LEFT JOIN LATERAL (SELECT sum(amount) AS s, max(entry_no) AS m FROM deposits.transactions t WHERE t.account_id = a.account_id) e ON true
      WHERE a.balance <> COALESCE(e.s, 0) OR a.last_entry_no <> COALESCE(e.m, 0)
         OR a.balance <> COALESCE((SELECT running_balance FROM deposits.transactions t WHERE t.account_id = a.account_id ORDER BY entry_no DESC LIMIT 1), 0)
      UNION ALL
      SELECT c.card_id FROM cards.cards c
      WHERE c.balance <> COALESCE((SELECT sum(amount) FROM cards.transactions t WHERE t.card_id = c.card_id), 0)`)
    expect(off).toEqual([])
  })

  it("produces months of history in several currencies, across every product system", async () => {
    const [span] = await query<{ first: string; last: string }>(
      "SELECT min(booking_date)::text AS first, max(booking_date)::text AS last FROM deposits.transactions"
    )
    expect(span).toEqual({ first: "2025-01-10", last: "2025-03-09" })
    const [mix] = await query<{
      currencies: string
      cards: string
      loans: string
      investments: string
      holdings: string
    }>(`
      SELECT (SELECT count(DISTINCT currency) FROM deposits.accounts) AS currencies, (SELECT count(*) FROM cards.transactions) AS cards,
             (SELECT count(*) FROM lending.transactions) AS loans, (SELECT count(*) FROM investments.transactions) AS investments,
             (SELECT count(*) FROM investments.holdings) AS holdings`)
    expect(Number(mix!.currencies)).toBeGreaterThan(1)
    for (const n of [mix!.cards, mix!.loans, mix!.investments, mix!.holdings]) expect(Number(n)).toBeGreaterThan(0)
  })

  it("leaves a database that holds data alone, unless forced", async () => {
    const skipped = await run(seedIfEmpty(pg.server.url, { ...options, seed: "8" }))
    expect(skipped.skipped).toMatch(/already hold data/)
    expect(await checksum()).toBe(first)
  })

  it("gives identical data for the same seed and different data for another", async () => {
    await run(seed(pg.server.url, { ...options, seed: "7", force: true }))
    expect(await checksum()).toBe(first)
    await run(seed(pg.server.url, { ...options, seed: "8", force: true }))
    expect(await checksum()).not.toBe(first)
    expect(await run(Ledgers.check())).toEqual([])
  })

  it("lets two seeds race on an empty database: one loads, the other waits and skips", async () => {
    await query("CREATE DATABASE racing")
    const url = pg.server.url.replace(/\/postgres$/, "/racing")
    const other = ManagedRuntime.make(Database.layer(url))
    try {
      const results = await Promise.all(
        [1, 2].map(() => other.runPromise(seedIfEmpty(url, { ...options, customers: 10, seed: "9" })))
      )
      expect(results.filter((r) => r.skipped === undefined).map((r) => r.customers)).toEqual([10])
      expect(results.filter((r) => r.skipped !== undefined)).toHaveLength(1)
      const [n] = await other.runPromise(
        Database.Database.use((db) =>
          db.query<{ n: string; admins: string }>(
            "SELECT count(*) FILTER (WHERE NOT 'admin' = ANY(roles)) AS n, count(*) FILTER (WHERE 'admin' = ANY(roles)) AS admins FROM customer.customers"
          )
        )
      )
      // Ten customers, and the one staff login the demo data adds.
      expect(n).toEqual({ n: "10", admins: "1" })
    } finally {
      await other.dispose()
    }
  })

  it("leaves the identities past the generated ids, so the back ends can insert", async () => {
    const [row] = await query<{ customer_id: string }>(
      `INSERT INTO customer.customers (given_name, family_name, email, address_line1, postal_code, city, country, date_of_birth, segment)
       VALUES ('New', 'Customer', 'new@example.com', '1 Main Street', '10115', 'Berlin', 'DE', '1990-01-01', 'retail') RETURNING customer_id`
    )
    expect(row!.customer_id).toBe("51")
  })
})
