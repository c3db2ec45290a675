import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Database, DatabaseError } from "@bank/platform"
import { Effect, ManagedRuntime } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { usePostgres } from "@bank/test-kit"
import { defaultDirectory, load, migrate, MigrationError } from "./Migrations.ts"
import { currencyExponents } from "./Money.ts"

describe("Migrations", () => {
  const pg = usePostgres()
  const runtimes: Array<ManagedRuntime.ManagedRuntime<Database.Database, never>> = []
  const on = (database: string) => {
    const runtime = ManagedRuntime.make(Database.layer(pg.server.url.replace(/\/postgres$/, `/${database}`)))
    runtimes.push(runtime)
    return <A, E>(effect: Effect.Effect<A, E, Database.Database>) => runtime.runPromise(effect)
  }
  const query = <A extends object>(sql: string, params?: ReadonlyArray<unknown>) =>
    Database.Database.use((db) => db.query<A>(sql, params))
  let run: ReturnType<typeof on>

  beforeAll(async () => {
    run = on("postgres")
    await run(query("CREATE DATABASE concurrent"))
    await run(query("CREATE DATABASE edited"))
  })
  afterAll(() => Promise.all(runtimes.map((r) => r.dispose())))

  it("applies every migration to an empty database, and a second run changes nothing", async () => {
    const files = await Effect.runPromise(load())
    const first = await run(migrate())
    expect(first.applied.map((m) => m.version)).toEqual(files.map((m) => m.version))
    const schemas = await run(
      query<{ nspname: string }>(
        "SELECT nspname FROM pg_namespace WHERE nspname IN ('ref', 'customer', 'crm', 'deposits', 'cards', 'lending', 'investments') ORDER BY 1"
      )
    )
    expect(schemas.map((s) => s.nspname)).toEqual([
      "cards",
      "crm",
      "customer",
      "deposits",
      "investments",
      "lending",
      "ref"
    ])

    const second = await run(migrate())
    expect(second).toEqual({ applied: [], alreadyApplied: files.length })

    // The API formats money with the code's copy of the currency table: it must be this one.
    const currencies = await run(
      query<{ code: string; minor_unit: number }>("SELECT code, minor_unit FROM ref.currencies ORDER BY code")
    )
    expect(new Map(currencies.map((c) => [c.code, Number(c.minor_unit)]))).toEqual(
      new Map([...currencyExponents].sort())
    )
  })

  it("lets two processes migrate the same database at once: each migration is applied exactly once", async () => {
    const a = on("concurrent")
    const b = on("concurrent")
    const [ra, rb] = await Promise.all([a(migrate()), b(migrate())])
    const files = await Effect.runPromise(load())
    expect([...ra.applied, ...rb.applied].map((m) => m.version).sort((x, y) => x - y)).toEqual(
      files.map((m) => m.version)
    )
    const recorded = await a(query<{ n: string }>("SELECT count(*) AS n FROM records_meta.schema_migrations"))
    expect(recorded[0]?.n).toBe(String(files.length))
  })

  it("refuses to continue when an applied migration was edited afterwards", async () => {
    const directory = mkdtempSync(join(tmpdir(), "migrations-"))
    try {
      cpSync(defaultDirectory, directory, { recursive: true })
      const edited = on("edited")
      await edited(migrate({ directory }))
      const file = join(directory, "004_deposits.sql")
      writeFileSync(file, `${readFileSync(file, "utf8")}\n-- an afterthought\n`)
      const error = await edited(Effect.flip(migrate({ directory })))
      expect(error).toBeInstanceOf(MigrationError)
      expect((error as MigrationError).reason).toBe("ChecksumMismatch")
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  })

  describe("constraints", () => {
    const refused = async (sql: string, params?: ReadonlyArray<unknown>) => {
      const error = await run(Effect.flip(query(sql, params)))
      expect(error).toBeInstanceOf(DatabaseError)
      return error as DatabaseError
    }
    const account = (currency: string, balance: number, available: number, overdraft = 0) =>
      [
        `INSERT INTO deposits.accounts (customer_id, iban, product, name, currency, balance, available_balance, overdraft_limit, opened_on)
        VALUES (1, $1, 'current', 'Current account', $2, $3, $4, $5, '2024-01-01') RETURNING account_id`,
        [
          `DE00999900000000${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`,
          currency,
          balance,
          available,
          overdraft
        ]
      ] as const

    beforeAll(async () => {
      await run(
        query(`INSERT INTO customer.customers (customer_id, given_name, family_name, email, address_line1, postal_code, city, country, date_of_birth, segment)
                       VALUES (1, 'Ada', 'Lovelace', 'ada@example.com', '1 Main Street', '10115', 'Berlin', 'DE', '1990-12-10', 'retail')`)
      )
    })

    it("accepts a consistent account and its entry", async () => {
      const [row] = await run(query<{ account_id: string }>(...account("EUR", 10_000, 8_000)))
      await run(
        query(
          `INSERT INTO deposits.transactions (account_id, customer_id, entry_no, amount, currency, booking_date, value_date, booked_at, description, category, running_balance)
         VALUES ($1, 1, 1, 10000, 'EUR', '2024-01-02', '2024-01-02', now(), 'Opening', 'opening', 10000)`,
          [row!.account_id]
        )
      )
    })

    it("rejects money that is not whole minor units", async () => {
      const [row] = await run(query<{ account_id: string }>(...account("EUR", 0, 0)))
      const error = await refused(
        `INSERT INTO deposits.transactions (account_id, customer_id, entry_no, amount, currency, booking_date, value_date, booked_at, description, category, running_balance)
         VALUES ($1, 1, 1, $2, 'EUR', '2024-01-02', '2024-01-02', now(), 'Coffee', 'dining', 0)`,
        [row!.account_id, "-12.50"]
      )
      expect(error.code).toBe("22P02") // invalid input syntax for type bigint
    })

    it("rejects a currency that is not an ISO 4217 code we know", async () => {
      expect((await refused(...account("eur", 0, 0))).code).toBe("23514")
      expect((await refused(...account("XXX", 0, 0))).code).toBe("23503")
      expect((await refused(...account("EURO", 0, 0))).code).toBe("22001") // char(3)
    })

    it("rejects a negative available balance and one above balance plus overdraft", async () => {
      expect((await refused(...account("EUR", 5_000, -1))).constraint).toMatch(/accounts_check/)
      expect((await refused(...account("EUR", 5_000, 6_000, 500))).code).toBe("23514")
      expect((await refused(...account("EUR", -600, 0, 500))).code).toBe("23514") // below the overdraft limit
      await run(query(...account("EUR", -400, 100, 500))) // within it
    })

    it("rejects an entry whose currency is not its account's", async () => {
      const [row] = await run(query<{ account_id: string }>(...account("EUR", 0, 0)))
      const error = await refused(
        `INSERT INTO deposits.transactions (account_id, customer_id, entry_no, amount, currency, booking_date, value_date, booked_at, description, category, running_balance)
         VALUES ($1, 1, 1, 100, 'USD', '2024-01-02', '2024-01-02', now(), 'Wire', 'transfer_in', 100)`,
        [row!.account_id]
      )
      expect(error.code).toBe("23503")
    })

    it("rejects a password stored other than as a self-describing scrypt hash, and an unknown status", async () => {
      const credentials = `INSERT INTO customer.credentials (customer_id, username, password_hash, status) VALUES (1, 'ada', $1, $2)`
      expect((await refused(credentials, ["demo-password", "active"])).code).toBe("23514")
      expect((await refused(credentials, ["scrypt$N=16384,r=8,p=1$c2FsdA==$aGFzaA==", "suspended"])).code).toBe("23514")
      await run(query(credentials, ["scrypt$N=16384,r=8,p=1$c2FsdA==$aGFzaA==", "locked"]))
    })
  })
})
