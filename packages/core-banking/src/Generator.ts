// The synthetic data set: N customers with a random mix of products and months of history,
// deterministic from a seed (same seed and as-of date, same rows), streamed into PostgreSQL in
// batches with COPY so a million customers never sit in memory.
//
// Demo log-ins: `demo1` ... `demoN`, password `demo-password`. The hashes are real scrypt
// hashes at full production cost, because a load test that logs in must pay what production
// pays. Full cost is also why hashing a million of them would take hours: each run hashes at
// most `hashPool` distinct salts (default 1,000) in parallel and hands them out round-robin, so
// up to 1,000 customers every user has a salt of their own, and beyond that salts repeat. That
// is acceptable only because these are synthetic accounts with a published password; real
// credentials get a random salt each (PasswordHash.hash). Salts derive from the seed, to keep
// the data set reproducible.
import { createHash } from "node:crypto"
import { availableParallelism } from "node:os"
import { Database, type DatabaseError, PasswordHash, type ScryptParams, toDatabaseError } from "@bank/platform"
import { Effect, Fiber, Schema } from "effect"
import type pg from "pg"
import { migrate } from "@bank/records"
import { meter, silent } from "./Progress.ts"
import { Batch, connect, load } from "./generator/CopyLoader.ts"
import { instruments } from "./generator/Catalogue.ts"
import { generateCustomer } from "./generator/Customers.ts"
import { priceBook } from "./generator/Investments.ts"
import { addMonths, Ids } from "./generator/Ledger.ts"
import { identities } from "./generator/Tables.ts"

export const DEMO_PASSWORD = "demo-password"
/** The demo data's one member of the bank's staff: login `admin`, the `admin` role, no products. */
export const DEMO_ADMIN = { username: "admin", password: "demo-admin-password" } as const

export interface SeedOptions {
  /** How many customers (default 1,000). */
  readonly customers?: number
  /** Months of history before the as-of date (default 3). */
  readonly months?: number
  /** Same seed and as-of date: same data (default "42"). */
  readonly seed?: string
  /** YYYY-MM-DD: the history ends the day before (default: today, UTC). */
  readonly asOf?: string
  /** Wipe the systems of record first when they hold data (default false: leave them be). */
  readonly force?: boolean
  /** At most this many distinct password hashes (default 1,000; see the top of this file). */
  readonly hashPool?: number
  readonly scrypt?: ScryptParams
  /** Customers per COPY transaction (default 500). */
  readonly batchSize?: number
  /** Progress lines on stderr (default true). */
  readonly progress?: boolean
}

export interface SeedSummary {
  /** Migrations this call applied first ("004_deposits"...). */
  readonly migrated: ReadonlyArray<string>
  /** Set when nothing was loaded, with the reason. */
  readonly skipped?: string
  readonly customers: number
  readonly rows: number
  readonly seconds: number
}

export class SeedError extends Schema.TaggedError<SeedError>()("SeedError", { detail: Schema.String }) {
  override get message(): string {
    return this.detail
  }
}

const SYSTEM_TABLES = [
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
  "investments.accounts",
  "investments.holdings",
  "investments.transactions",
  "investments.instruments"
]

const options = (o: SeedOptions) => {
  const customers = o.customers ?? 1000
  const months = o.months ?? 3
  const asOf = o.asOf ?? new Date().toISOString().slice(0, 10)
  const end = Date.parse(`${asOf}T00:00:00Z`)
  if (!Number.isInteger(customers) || customers < 1)
    return Effect.fail(new SeedError({ detail: "customers must be a positive integer" }))
  if (!Number.isInteger(months) || months < 1 || months > 120)
    return Effect.fail(new SeedError({ detail: "months must be 1-120" }))
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(end))
    return Effect.fail(new SeedError({ detail: `as-of ${asOf} is not a date` }))
  return Effect.succeed({
    customers,
    months,
    asOf,
    seed: o.seed ?? "42",
    force: o.force ?? false,
    hashPool: Math.max(1, o.hashPool ?? 1000),
    scrypt: o.scrypt ?? PasswordHash.defaultParams,
    batchSize: Math.max(1, o.batchSize ?? 500),
    progress: o.progress ?? true,
    window: { start: addMonths(end, -months), end }
  })
}

/** Why the systems of record should not be seeded now, or undefined when they are empty. */
const occupied = Effect.fn("Generator.occupied")(function* () {
  const db = yield* Database.Database
  const [row] = yield* db.query<{ customers: boolean; finished: boolean | null }>(
    `SELECT EXISTS (SELECT 1 FROM customer.customers) AS customers,
            (SELECT finished_at IS NOT NULL FROM records_meta.seed_runs ORDER BY run_id DESC LIMIT 1) AS finished`
  )
  if (!row?.customers) return undefined
  return row.finished === false
    ? "the systems of record hold an unfinished seed (a run was cut short): seed again with --force"
    : "the systems of record already hold data: left as they are (--force wipes and seeds again)"
})

const hashes = Effect.fn("Generator.hashes")(function* (
  seed: string,
  count: number,
  params: ScryptParams,
  showProgress: boolean
) {
  const progress = showProgress ? meter("seed: password hashes", count, "hashes") : silent
  let done = 0
  return yield* Effect.forEach(
    Array.from({ length: count }, (_, i) => i),
    (i) => {
      const salt = createHash("sha256").update(`${seed}\u0000salt\u0000${i}`).digest().subarray(0, 16)
      return PasswordHash.hash(DEMO_PASSWORD, { salt, params }).pipe(
        Effect.tap(() => Effect.sync(() => progress.update(++done)))
      )
    },
    // scrypt runs on libuv's thread pool; one hash per core keeps every core busy.
    { concurrency: availableParallelism() }
  ).pipe(Effect.tap(() => Effect.sync(() => progress.finish())))
})

/**
 * Migrates, then seeds `url` unless the systems of record already hold data (or wipes them
 * first with `force`). Needs `Database` on the same database as `url`.
 */
export const seed = Effect.fn("Generator.seed")(function* (url: string, given: SeedOptions = {}) {
  const o = yield* options(given)
  const db = yield* Database.Database
  const started = performance.now()
  const migrated = (yield* migrate()).applied.map((m) => `${String(m.version).padStart(3, "0")}_${m.name}`)
  // One seed at a time per database: a second one waits here, then finds the data and skips.
  // The lock is the session's, held on a connection of its own until the scope closes.
  const guard = yield* connect(url)
  yield* Effect.tryPromise({
    try: () => guard.query("SELECT pg_advisory_lock(hashtext('@bank/records seed'))"),
    catch: toDatabaseError
  })
  const reason = yield* occupied()
  if (reason && !o.force) return { migrated, skipped: reason, customers: 0, rows: 0, seconds: 0 } satisfies SeedSummary
  if (reason) yield* db.query(`TRUNCATE ${SYSTEM_TABLES.join(", ")} RESTART IDENTITY CASCADE`)

  const [run] = yield* db.query<{ run_id: string }>(
    "INSERT INTO records_meta.seed_runs (seed, customers, months, as_of) VALUES ($1, $2, $3, $4) RETURNING run_id",
    [o.seed, o.customers, o.months, o.asOf]
  )
  const currencies = yield* db.query<{ code: string; minor_unit: number }>(
    "SELECT code, minor_unit FROM ref.currencies"
  )
  for (const i of instruments) {
    yield* db.query(
      `INSERT INTO investments.instruments (isin, symbol, name, asset_class, currency) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (isin) DO NOTHING`,
      [i.isin, i.symbol, i.name, i.assetClass, i.currency]
    )
  }
  const pool = yield* hashes(o.seed, Math.min(o.customers, o.hashPool), o.scrypt, o.progress)

  const ids = new Ids()
  const world = {
    seed: o.seed,
    window: o.window,
    ids,
    prices: priceBook(o.seed, o.window),
    units: new Map(currencies.map((c) => [c.code, c.minor_unit])),
    passwordHash: (customerId: number) => pool[(customerId - 1) % pool.length]!
  }
  const progress = o.progress ? meter("seed: customers", o.customers, "customers") : silent
  // Two connections: PostgreSQL loads one batch while this process generates the next.
  const clients: ReadonlyArray<pg.Client> = [yield* connect(url), yield* connect(url)]
  const inFlight: Array<Fiber.Fiber<void, DatabaseError>> = []
  let rows = 0
  let loaded = 0
  for (let n = 0; n * o.batchSize < o.customers; n++) {
    // Generated in id order, whatever the loading does: ids and data depend only on the seed.
    const batch = new Batch()
    const first = n * o.batchSize + 1
    const last = Math.min(o.customers, first + o.batchSize - 1)
    for (let id = first; id <= last; id++) generateCustomer({ ...world, sink: batch }, id)
    // Batch n loads on client n % 2, once batch n - 2 has released it.
    if (inFlight.length >= clients.length) yield* Fiber.join(inFlight.shift()!)
    inFlight.push(
      yield* Effect.forkChild(
        load(clients[n % clients.length]!, batch).pipe(
          Effect.tap(() =>
            Effect.sync(() => {
              rows += batch.rows
              loaded += last - first + 1
              progress.update(loaded, `${rows.toLocaleString("en-US")} rows`)
            })
          )
        )
      )
    )
  }
  for (const fiber of inFlight) yield* Fiber.join(fiber)
  progress.finish(`${rows.toLocaleString("en-US")} rows`)

  // The generator chose the ids itself: move each identity past them for later inserts.
  for (const [table, column] of identities) {
    yield* db.query(
      `SELECT setval(pg_get_serial_sequence('${table}', '${column}'), (SELECT COALESCE(max(${column}), 0) + 1 FROM ${table}), false)`
    )
  }
  yield* db.query(`ANALYZE ${SYSTEM_TABLES.join(", ")}`)
  yield* db.query("UPDATE records_meta.seed_runs SET finished_at = now() WHERE run_id = $1", [run!.run_id])
  return { migrated, customers: o.customers, rows, seconds: (performance.now() - started) / 1000 } satisfies SeedSummary
}, Effect.scoped)

/** The admin login, a separate identity from every customer (admin API, dead letters). */
export const seedAdmin = Effect.fn("Generator.seedAdmin")(function* (seedText: string, params: ScryptParams) {
  const db = yield* Database.Database
  const adminSalt = createHash("sha256").update(`${seedText}\u0000admin`).digest().subarray(0, 16)
  const adminHash = yield* PasswordHash.hash(DEMO_ADMIN.password, { salt: adminSalt, params })
  const [admin] = yield* db.query<{ customer_id: string }>(
    `INSERT INTO customer.customers (given_name, family_name, email, address_line1, postal_code, city, country, date_of_birth, segment, roles)
     VALUES ('Bank', 'Operations', 'operations@bank.example', '1 Bank Square', '1000', 'Brussels', 'BE', '1970-01-01', 'business', '{admin}')
     RETURNING customer_id::text`
  )
  yield* db.query("INSERT INTO customer.credentials (customer_id, username, password_hash) VALUES ($1, $2, $3)", [
    admin!.customer_id,
    DEMO_ADMIN.username,
    adminHash
  ])
})

/** The demo data: `seed`, then (when it seeded) the admin login. */
export const seedDemo = (url: string, given: SeedOptions = {}) =>
  Effect.gen(function* () {
    const summary = yield* seed(url, given)
    if (summary.skipped === undefined) {
      const o = yield* options(given)
      yield* seedAdmin(o.seed, o.scrypt)
    }
    return summary
  })

/** What `npm start` calls: seeds only a database whose systems of record are empty. */
export const seedIfEmpty = (url: string, given: Omit<SeedOptions, "force"> = {}) =>
  seedDemo(url, { ...given, force: false })
