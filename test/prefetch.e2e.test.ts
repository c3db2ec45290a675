// Prefetching end to end, on the generated data set: a login through identity's route makes
// the prefetch actor load the customer's recent transactions into a private Redis; pages over
// real HTTP come from Redis inside the window and from PostgreSQL beyond it, and read the same
// as PostgreSQL's own ledger; CDC adds new entries to the cached pages and refreshes the
// reference data caches.
import { Database, PasswordHash } from "@bank/platform"
import { TransactionCache } from "@bank/prefetch"
import { ledgers, postDepositEntry } from "@bank/records"
import { DEMO_PASSWORD, Generator } from "@bank/core-banking"
import { Effect } from "effect"
import { describe, expect, it, vi } from "vitest"
import { useStack } from "./support/bankStack.ts"

const WINDOW_DAYS = 30
const TTL_MS = 10 * 60_000

const stack = useStack({
  seed: (_db, url) =>
    Effect.runPromise(
      Generator.seed(url, {
        customers: 6,
        months: 3,
        hashPool: 1,
        progress: false,
        scrypt: { ...PasswordHash.defaultParams, N: 1024 }
      }).pipe(Effect.provide(Database.layer(url)), Effect.asVoid)
    ),
  waitForUser: "demo6",
  prefetch: { windowDays: WINDOW_DAYS, ttlMs: TTL_MS }
})

/** The customer's accounts in every ledger, `<system>:<id>`, with entry counts inside and before the window. */
const accountsOf = async (customerId: string) => {
  const rows: Array<{ account: string; recent: number; older: number }> = []
  for (const l of ledgers) {
    const { rows: found } = await stack.db.query(
      `SELECT a.${l.id}::text AS id,
              count(t.*) FILTER (WHERE t.booked_at >= now() - make_interval(days => $2))::int AS recent,
              count(t.*) FILTER (WHERE t.booked_at < now() - make_interval(days => $2))::int AS older
         FROM ${l.accounts} a LEFT JOIN ${l.entries} t ON t.${l.id} = a.${l.id}
        WHERE a.customer_id = $1 GROUP BY a.${l.id} ORDER BY a.${l.id}`,
      [customerId, WINDOW_DAYS]
    )
    for (const r of found) rows.push({ account: `${l.system}:${r.id}`, recent: r.recent, older: r.older })
  }
  return rows
}

/** Every entry of the account, newest first, as the API should show it, computed by PostgreSQL alone. */
const ledgerOf = async (account: string) => {
  const [system, id] = account.split(":")
  const l = ledgers.find((x) => x.system === system)!
  const { rows } = await stack.db.query(
    `SELECT t.transaction_id::text AS "transactionId", t.entry_no::int AS "entryNo",
            round(t.amount::numeric / power(10::numeric, c.minor_unit), c.minor_unit)::text AS amount, t.currency::text AS currency,
            to_char(t.booking_date, 'YYYY-MM-DD') AS "bookingDate", to_char(t.value_date, 'YYYY-MM-DD') AS "valueDate",
            to_char(t.booked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "bookedAt",
            t.description, t.counterparty, t.category,
            round(t.running_balance::numeric / power(10::numeric, c.minor_unit), c.minor_unit)::text AS "runningBalance"
       FROM ${l.entries} t JOIN ref.currencies c ON c.code = t.currency
      WHERE t.${l.id} = $1 ORDER BY t.entry_no DESC`,
    [id]
  )
  return rows.map(({ currency, amount, runningBalance, ...rest }) => ({
    ...rest,
    amount: { amount, currency },
    runningBalance: { amount: runningBalance, currency }
  }))
}

/** Pages through the account over HTTP; every transaction and which store served each page. */
const pageAll = async (token: string, account: string, limit: number) => {
  const transactions: Array<unknown> = []
  const sources: Array<string> = []
  let cursor: string | null = null
  do {
    const answer = await stack.call(
      "GET",
      `/v1/accounts/${account}/transactions?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`,
      { token }
    )
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.body.accountId).toBe(account)
    transactions.push(...answer.body.transactions)
    sources.push(answer.headers.get("x-data-source")!)
    cursor = answer.body.nextCursor
  } while (cursor !== null)
  return { transactions, sources }
}

const windowsReady = (customerId: string, accounts: ReadonlyArray<string>) =>
  vi.waitFor(
    async () => {
      for (const account of accounts) {
        expect(await stack.redis.hGet(TransactionCache.keys(customerId, account)[0], "state"), account).toBe("ready")
      }
    },
    { timeout: 20_000, interval: 50 }
  )

const dropWindows = async (customerId: string, accounts: ReadonlyArray<string>) => {
  for (const account of accounts) await stack.redis.del([...TransactionCache.keys(customerId, account)])
}

describe("prefetched transactions", () => {
  it("loads every account's recent entries at login; pages from Redis equal PostgreSQL's, falling back beyond the window", async () => {
    const { token, customerId } = await stack.login("demo1", DEMO_PASSWORD)
    const accounts = await accountsOf(customerId)
    expect(accounts.length).toBeGreaterThan(1)
    // The data set has months of history: some pages must come from beyond the window.
    expect(accounts.some((a) => a.older > 0 && a.recent >= 7)).toBe(true)
    await windowsReady(
      customerId,
      accounts.map((a) => a.account)
    )

    for (const { account, recent, older } of accounts) {
      const [meta, entries] = TransactionCache.keys(customerId, account)
      expect(await stack.redis.pTTL(meta)).toBeGreaterThan(TTL_MS - 60_000)
      if (recent > 0) expect(await stack.redis.pTTL(entries)).toBeGreaterThan(TTL_MS - 60_000)
      const expected = await ledgerOf(account)
      const fromRedis = await pageAll(token, account, 7)
      expect(fromRedis.transactions, account).toEqual(expected)
      if (recent >= 7 || older === 0) expect(fromRedis.sources[0], account).toBe("redis")
      if (older > 0) expect(fromRedis.sources.at(-1), account).toBe("postgres")
      // Once a page came from PostgreSQL, the older ones do too: the window is the newest entries.
      expect(fromRedis.sources.join(",")).toMatch(/^(redis,?)*(postgres,?)*$/)
    }

    // Not prefetched (expired, or never logged in): PostgreSQL serves the very same pages.
    await dropWindows(
      customerId,
      accounts.map((a) => a.account)
    )
    for (const { account } of accounts) {
      const fromPostgres = await pageAll(token, account, 7)
      expect(new Set(fromPostgres.sources)).toEqual(new Set(["postgres"]))
      expect(fromPostgres.transactions, account).toEqual(await ledgerOf(account))
    }
  })

  it("adds a transaction committed after the login to the cached pages, through CDC", async () => {
    const { token, customerId } = await stack.login("demo2", DEMO_PASSWORD)
    const accounts = await accountsOf(customerId)
    await windowsReady(
      customerId,
      accounts.map((a) => a.account)
    )
    const deposit = accounts.find((a) => a.account.startsWith("deposits:"))!
    expect(deposit).toBeDefined()
    const accountId = deposit.account.split(":")[1]!

    for (const description of ["Refund from CDC test", "Second refund"]) {
      await stack.runtime.runPromise(
        Database.Database.use((db) =>
          db.transaction((tx) =>
            Effect.gen(function* () {
              const [account] = yield* tx.query<{
                account_id: string
                customer_id: string
                currency: string
                balance: string
                last_entry_no: string
              }>(
                `SELECT account_id::text, customer_id::text, currency, balance::text, last_entry_no::text
                 FROM deposits.accounts WHERE account_id = $1 FOR UPDATE`,
                [accountId]
              )
              yield* postDepositEntry(tx, account!, {
                amount: 1234n,
                description,
                counterparty: "Shop",
                category: "refund"
              })
            })
          )
        )
      )
      await vi.waitFor(
        async () => {
          const answer = await stack.call("GET", `/v1/accounts/${deposit.account}/transactions?limit=3`, { token })
          expect(answer.headers.get("x-data-source")).toBe("redis")
          expect(answer.body.transactions[0]).toMatchObject({ description, category: "refund" })
        },
        { timeout: 20_000, interval: 50 }
      )
    }
    const cached = await pageAll(token, deposit.account, 5)
    expect(cached.sources[0]).toBe("redis")
    expect(cached.transactions).toEqual(await ledgerOf(deposit.account))
  })

  it("serves a customer only their own accounts, and refuses foreign or malformed cursors", async () => {
    const other = await stack.login("demo3", DEMO_PASSWORD)
    const theirs = await accountsOf(other.customerId)
    await windowsReady(
      other.customerId,
      theirs.map((a) => a.account)
    )
    const { token, customerId } = await stack.login("demo4", DEMO_PASSWORD)
    const mine = await accountsOf(customerId)
    for (const { account } of theirs) {
      const answer = await stack.call("GET", `/v1/accounts/${account}/transactions`, { token })
      expect(answer.status, account).toBe(404)
      expect(answer.body.type).toBe("/docs/problems/account-not-found")
    }
    // One account id everywhere: a deposit account's bare number is not one, even for its owner.
    const bare = mine.find((a) => a.account.startsWith("deposits:"))?.account.slice("deposits:".length) ?? "1"
    for (const path of ["loans:1", "deposits:0", "deposits:abc", "999999", bare]) {
      expect((await stack.call("GET", `/v1/accounts/${path}/transactions`, { token })).status, path).toBe(404)
    }
    const own = mine.find((a) => a.recent + a.older > 2)!
    const first = await stack.call("GET", `/v1/accounts/${own.account}/transactions?limit=1`, { token })
    expect(first.body.nextCursor).toEqual(expect.any(String))
    const elsewhere = mine.find((a) => a.account !== own.account)
    if (elsewhere) {
      const misused = await stack.call(
        "GET",
        `/v1/accounts/${elsewhere.account}/transactions?cursor=${first.body.nextCursor}`,
        { token }
      )
      expect(misused.status).toBe(400)
      expect(misused.body).toMatchObject({ type: "/docs/problems/invalid-page-query", parameter: "cursor" })
    }
    expect((await stack.call("GET", `/v1/accounts/${own.account}/transactions?cursor=forged`, { token })).status).toBe(
      400
    )
    expect(
      (await stack.call("GET", `/v1/accounts/${own.account}/transactions?limit=500`, { token })).body.parameter
    ).toBe("limit")
    expect((await stack.call("GET", `/v1/accounts/${own.account}/transactions`)).status).toBe(401)
  })
})

describe("reference data", () => {
  it("is cached in Redis and follows changes in PostgreSQL through CDC", async () => {
    const { token } = await stack.login("demo5", DEMO_PASSWORD)
    const rates = () => stack.call("GET", "/v1/reference/exchange-rates", { token })
    const products = () => stack.call("GET", "/v1/reference/products", { token })

    const first = await rates()
    expect(first.status).toBe(200)
    expect(first.body.rates).toContainEqual(expect.objectContaining({ base: "EUR", quote: "USD", rate: "1.08000000" }))
    expect((await rates()).headers.get("x-data-source")).toBe("redis")
    const catalogue = await products()
    expect(catalogue.body.products).toContainEqual(
      expect.objectContaining({
        system: "cards",
        product: "gold",
        interestRate: "17.9000",
        annualFee: { amount: "99.00", currency: "EUR" },
        available: true
      })
    )

    await stack.db.query(
      "UPDATE ref.exchange_rates SET rate = 1.09125, as_of = now() WHERE base = 'EUR' AND quote = 'USD'"
    )
    await vi.waitFor(
      async () => {
        const answer = await rates()
        expect(answer.body.rates).toContainEqual(expect.objectContaining({ quote: "USD", rate: "1.09125000" }))
        // Loaded again by the prefetch actor once the change was in: readers find it in Redis.
        expect(answer.headers.get("x-data-source")).toBe("redis")
      },
      { timeout: 20_000, interval: 50 }
    )

    await stack.db.query(
      `INSERT INTO ref.products (system, product, name, description, interest_rate) VALUES ('deposits', 'youth', 'Youth account', 'For under-18s.', 1.0000)`
    )
    await stack.db.query("UPDATE ref.products SET available = false WHERE system = 'cards' AND product = 'platinum'")
    await vi.waitFor(
      async () => {
        const answer = await products()
        expect(answer.body.products).toContainEqual(
          expect.objectContaining({ product: "youth", name: "Youth account" })
        )
        expect(answer.body.products).toContainEqual(expect.objectContaining({ product: "platinum", available: false }))
      },
      { timeout: 20_000, interval: 50 }
    )
    expect((await stack.call("GET", "/v1/reference/products")).status).toBe(401)
  })
})
