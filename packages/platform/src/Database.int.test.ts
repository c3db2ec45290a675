import { Effect, Layer, Logger, ManagedRuntime } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { usePostgres } from "@bank/test-kit"
import { Database, DatabaseError, layer } from "./Database.ts"

describe("Database", () => {
  const pg = usePostgres()
  let runtime: ManagedRuntime.ManagedRuntime<Database, never>
  const run = <A, E>(effect: Effect.Effect<A, E, Database>) => runtime.runPromise(effect)
  const failure = <A, E>(effect: Effect.Effect<A, E, Database>) => runtime.runPromise(Effect.flip(effect))

  const warnings: Array<unknown> = []
  const captureWarnings = Logger.layer([
    Logger.make(({ logLevel, message }) => {
      if (logLevel === "Warn") warnings.push(Array.isArray(message) ? message[0] : message)
    })
  ])

  beforeAll(async () => {
    runtime = ManagedRuntime.make(
      layer(pg.server.url, { connectTimeoutMillis: 2000 }).pipe(Layer.provide(captureWarnings))
    )
    await run(
      Effect.gen(function* () {
        const db = yield* Database
        yield* db.query("CREATE TABLE accounts (id text PRIMARY KEY, balance numeric NOT NULL CHECK (balance >= 0))")
      })
    )
  })
  afterAll(() => runtime?.dispose())

  it("returns rows for a parameterised query", async () => {
    const rows = await run(
      Effect.gen(function* () {
        const db = yield* Database
        return yield* db.query<{ n: number; s: string }>("SELECT $1::int AS n, $2::text AS s", [7, "seven"])
      })
    )
    expect(rows).toEqual([{ n: 7, s: "seven" }])
  })

  it("commits a transaction that succeeds and rolls back one that fails", async () => {
    class Refused {
      readonly _tag = "Refused"
    }
    const outcome = await run(
      Effect.gen(function* () {
        const db = yield* Database
        yield* db.transaction((tx) => tx.query("INSERT INTO accounts VALUES ('kept', 10)"))
        const refused = yield* Effect.flip(
          db.transaction(
            (tx) =>
              Effect.gen(function* () {
                yield* tx.query("INSERT INTO accounts VALUES ('dropped', 20)")
                yield* tx.query("UPDATE accounts SET balance = 99 WHERE id = 'kept'")
                return yield* Effect.fail(new Refused())
              }),
            { isolation: "serializable" }
          )
        )
        const rows = yield* db.query<{ id: string; balance: string }>("SELECT id, balance FROM accounts ORDER BY id")
        return { refused, rows }
      })
    )
    expect(outcome.refused).toBeInstanceOf(Refused)
    expect(outcome.rows).toEqual([{ id: "kept", balance: "10" }])
  })

  it("rolls back when the transaction body dies, and the pool stays usable", async () => {
    const exit = await runtime.runPromiseExit(
      Effect.gen(function* () {
        const db = yield* Database
        yield* db.transaction((tx) =>
          tx.query("INSERT INTO accounts VALUES ('defect', 1)").pipe(Effect.andThen(Effect.die("boom")))
        )
      })
    )
    expect(exit._tag).toBe("Failure")
    const rows = await run(Database.use((db) => db.query("SELECT id FROM accounts WHERE id = 'defect'")))
    expect(rows).toEqual([])
  })

  it("fails with a non-retryable DatabaseError on a bad query", async () => {
    const error = await failure(Database.use((db) => db.query("SELEC 1")))
    expect(error).toBeInstanceOf(DatabaseError)
    expect(error).toMatchObject({ _tag: "DatabaseError", reason: "Query", code: "42601", retryable: false })
  })

  it("names the constraint a write violated", async () => {
    const error = await failure(Database.use((db) => db.query("INSERT INTO accounts VALUES ('overdrawn', -1)")))
    expect(error).toMatchObject({ reason: "Constraint", code: "23514", constraint: "accounts_balance_check" })
  })

  // Last: it kills the server. Clients idle in the pool and a client inside a transaction all lose
  // their connection; none may crash the process (vitest fails the run on an unhandled error).
  it("fails Unavailable (retryable) when the server is killed, and recovers after a restart", async () => {
    // Concurrent queries leave three idle clients: one for the transaction, two idle in the pool.
    await run(Database.use((db) => Effect.all([db.ping, db.ping, db.ping], { concurrency: 3 })))
    const inTransaction = await failure(
      Effect.gen(function* () {
        const db = yield* Database
        yield* db.transaction((tx) =>
          Effect.gen(function* () {
            yield* tx.query("SELECT 1")
            yield* Effect.promise(() => pg.server.kill())
            yield* tx.query("SELECT 1")
          })
        )
      })
    )
    expect(inTransaction).toMatchObject({ _tag: "DatabaseError", reason: "Unavailable", retryable: true })
    await vi.waitFor(() => expect(warnings).toContain("Database idle client error"))

    const whileDown = await failure(Database.use((db) => db.ping))
    expect(whileDown).toMatchObject({ _tag: "DatabaseError", reason: "Unavailable", retryable: true })

    await pg.server.restart()
    await run(Database.use((db) => db.ping))
  })
})
