// Applies the plain-SQL migrations in packages/records/migrations (NNN_name.sql) in order.
// Each migration runs in its own transaction together with the row that records it in
// records_meta.schema_migrations, so it is applied entirely or not at all. Every transaction
// first takes one transaction-scoped advisory lock: two processes migrating at once (two
// replicas starting together) take turns, and the second finds the work done. A recorded
// migration whose file changed since is an error, not something to re-run silently.
import { createHash } from "node:crypto"
import { readdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Database, type Queryable } from "@bank/platform"
import { Effect, Schema } from "effect"

export const MigrationErrorReason = Schema.Literals(["Unreadable", "Invalid", "ChecksumMismatch"])

export class MigrationError extends Schema.TaggedError<MigrationError>()("MigrationError", {
  reason: MigrationErrorReason,
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    return `${this.reason}: ${this.detail}`
  }
}

export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
  /** sha256 of the file, recorded with the version. */
  readonly checksum: string
}

export interface MigrationReport {
  readonly applied: ReadonlyArray<Migration>
  readonly alreadyApplied: number
}

export const defaultDirectory = fileURLToPath(new URL("../migrations/", import.meta.url))

const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/

/** Reads and orders the migration files of `directory`. */
export const load = Effect.fn("Migrations.load")(function* (directory: string = defaultDirectory) {
  const unreadable = (cause: unknown) => new MigrationError({ reason: "Unreadable", detail: directory, cause })
  const names = yield* Effect.tryPromise({ try: () => readdir(directory), catch: unreadable })
  const migrations: Array<Migration> = []
  for (const file of names.filter((n) => n.endsWith(".sql")).sort()) {
    const match = FILE.exec(file)
    if (!match) return yield* new MigrationError({ reason: "Invalid", detail: `${file} is not named NNN_name.sql` })
    const sql = yield* Effect.tryPromise({ try: () => readFile(join(directory, file), "utf8"), catch: unreadable })
    const version = Number(match[1])
    if (migrations.some((m) => m.version === version)) {
      return yield* new MigrationError({ reason: "Invalid", detail: `two migrations have version ${version}` })
    }
    migrations.push({ version, name: match[2]!, sql, checksum: createHash("sha256").update(sql).digest("hex") })
  }
  return migrations
})

// Whichever process holds this lock is the only one changing the schema.
const lock = (tx: Queryable) => tx.query("SELECT pg_advisory_xact_lock(hashtext('@bank/records migrations'))")

const BOOTSTRAP = `
  CREATE SCHEMA IF NOT EXISTS records_meta;
  CREATE TABLE IF NOT EXISTS records_meta.schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  );`

const recorded = (tx: Queryable, version: number) =>
  tx.query<{ checksum: string }>("SELECT checksum FROM records_meta.schema_migrations WHERE version = $1", [version])

/** Applies what `directory` has and the database does not; returns what it applied. */
export const migrate = Effect.fn("Migrations.migrate")(function* (options?: { readonly directory?: string }) {
  const db = yield* Database.Database
  const migrations = yield* load(options?.directory)
  yield* db.transaction((tx) => lock(tx).pipe(Effect.andThen(tx.query(BOOTSTRAP))))
  const applied: Array<Migration> = []
  for (const migration of migrations) {
    const done = yield* db.transaction(
      Effect.fnUntraced(function* (tx) {
        yield* lock(tx)
        const [previous] = yield* recorded(tx, migration.version)
        if (previous) {
          if (previous.checksum !== migration.checksum) {
            return yield* new MigrationError({
              reason: "ChecksumMismatch",
              detail: `migration ${migration.version}_${migration.name} changed after it was applied; add a new migration instead`
            })
          }
          return false
        }
        // No parameters: the simple query protocol, which runs a file of many statements.
        yield* tx.query(migration.sql)
        yield* tx.query("INSERT INTO records_meta.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", [
          migration.version,
          migration.name,
          migration.checksum
        ])
        return true
      })
    )
    if (done) applied.push(migration)
  }
  return { applied, alreadyApplied: migrations.length - applied.length } satisfies MigrationReport
})
