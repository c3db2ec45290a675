// Reconciliation of the credentials read model with the customer master: every customer, page by
// page, the login record of the generation logins use (Credentials.ts) against
// customer.credentials and the customer's roles in PostgreSQL, and the username pointer against
// the customer it must name. A live system is a little behind its database, so customers that
// differ are checked again after `recheckAfterMs`; only differences that persist are reported.
// The credentials Projection value (CredentialsProjection.ts) carries it to scripts/reconcile.ts.
import { Database, type DatabaseError } from "@bank/platform"
import { Effect } from "effect"
import { Redis, type RedisError } from "effect/persistence/Redis"
import { currentGeneration, recordKey } from "./Credentials.ts"
import * as IdentityKeys from "./IdentityKeys.ts"

export interface Mismatch {
  readonly customerId: string
  readonly document: string
  readonly what: string
  readonly expected?: unknown
  readonly actual?: unknown
}

interface Row {
  readonly id: string
  readonly username: string | null
  readonly password_hash: string | null
  readonly status: string | null
  readonly locked_until_ms: string | null
  readonly roles: string
}

const check = (rows: ReadonlyArray<Row>, generation: number) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const out: Array<Mismatch> = []
    yield* Effect.forEach(
      rows,
      (row) =>
        Effect.gen(function* () {
          const flat = yield* redis.send<ReadonlyArray<string>>("HGETALL", recordKey(row.id, generation))
          const record: Record<string, string> = {}
          for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i]!] = flat[i + 1]!
          const differs = (what: string, expected: string | undefined, actual: string | undefined) => {
            if ((expected ?? "") !== (actual ?? ""))
              out.push({ customerId: row.id, document: "credentials", what, expected, actual })
          }
          differs("username", row.username ?? undefined, record.username)
          differs("passwordHash", row.password_hash ?? undefined, record.passwordHash)
          differs("roles", row.roles, record.roles)
          if (row.username !== null) {
            differs("status", row.status ?? undefined, record.status)
            differs("lockedUntil", row.locked_until_ms ?? undefined, record.lockedUntil)
            const owner = yield* redis.send<string | null>("GET", IdentityKeys.loginName(row.username, generation))
            differs(`username pointer ${row.username}`, row.id, owner ?? undefined)
          }
        }),
      { concurrency: 32, discard: true }
    )
    return out
  })

const page = (where: string, args: ReadonlyArray<unknown>, limit = "") =>
  Database.Database.use((db) =>
    db.query<Row>(
      `SELECT c.customer_id::text AS id, cr.username, cr.password_hash, cr.status,
              floor(extract(epoch FROM cr.locked_until) * 1000)::bigint::text AS locked_until_ms,
              array_to_string(c.roles, ',') AS roles
         FROM customer.customers c LEFT JOIN customer.credentials cr USING (customer_id)
        WHERE ${where} ORDER BY c.customer_id ${limit}`,
      args
    )
  )

/** Compares every customer's login record with the customer master. */
export const reconcile = (
  options: {
    readonly recheckAfterMs?: number
    readonly onProgress?: (checked: number) => void
    readonly pageSize?: number
  } = {}
): Effect.Effect<
  { readonly checked: number; readonly mismatches: ReadonlyArray<Mismatch> },
  DatabaseError | RedisError,
  Database.Database | Redis
> =>
  Effect.gen(function* () {
    const generation = yield* currentGeneration
    const pageSize = options.pageSize ?? 500
    let after = "0"
    let checked = 0
    const differing = new Set<string>()
    while (true) {
      const rows = yield* page("c.customer_id > $1::bigint", [after, pageSize], "LIMIT $2")
      if (rows.length === 0) break
      for (const m of yield* check(rows, generation)) differing.add(m.customerId)
      checked += rows.length
      after = rows.at(-1)!.id
      options.onProgress?.(checked)
    }
    if (differing.size === 0) return { checked, mismatches: [] }
    if ((options.recheckAfterMs ?? 2000) > 0) yield* Effect.sleep(options.recheckAfterMs ?? 2000)
    const again = yield* page("c.customer_id = ANY($1::bigint[])", [[...differing]])
    return { checked, mismatches: yield* check(again, yield* currentGeneration) }
  }).pipe(Effect.withSpan("Reconcile.credentials"))
