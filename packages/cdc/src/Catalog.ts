// What the connector asks PostgreSQL's catalog: the publication it reads, the tables in it,
// their primary keys, its replication slot and how far behind that slot is.
import { Effect } from "effect"
import pg from "pg"
import type { PgClient } from "./PgConnection.ts"

/**
 * Creates the publication over every table of `schemas` (also tables created later in them),
 * or adds the schemas it lacks. Schemas that do not exist yet are returned: their tables are
 * not captured until they exist and the connector reconnects, so run migrations first.
 */
export const ensurePublication = Effect.fn("Catalog.ensurePublication")(function* (
  db: PgClient,
  publication: string,
  schemas: ReadonlyArray<string>
) {
  const existing = new Set(
    (yield* db.query("SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[])", [schemas])).map(
      (r) => r["nspname"]!
    )
  )
  const present = schemas.filter((s) => existing.has(s))
  const missing = schemas.filter((s) => !existing.has(s))
  const found = yield* db.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication])
  const list = (names: ReadonlyArray<string>) => names.map((n) => pg.escapeIdentifier(n)).join(", ")
  if (found.length === 0) {
    yield* db.query(
      present.length > 0
        ? `CREATE PUBLICATION ${pg.escapeIdentifier(publication)} FOR TABLES IN SCHEMA ${list(present)}`
        : `CREATE PUBLICATION ${pg.escapeIdentifier(publication)}`
    )
    yield* Effect.logInfo("created publication", { publication, schemas: present })
  } else {
    const covered = new Set(
      (yield* db.query(
        `SELECT n.nspname FROM pg_publication_namespace pn
         JOIN pg_namespace n ON n.oid = pn.pnnspid
         JOIN pg_publication p ON p.oid = pn.pnpubid
        WHERE p.pubname = $1`,
        [publication]
      )).map((r) => r["nspname"]!)
    )
    const toAdd = present.filter((s) => !covered.has(s))
    if (toAdd.length > 0) {
      yield* db.query(`ALTER PUBLICATION ${pg.escapeIdentifier(publication)} ADD TABLES IN SCHEMA ${list(toAdd)}`)
      yield* Effect.logInfo("added schemas to the publication", { publication, schemas: toAdd })
    }
  }
  if (missing.length > 0) yield* Effect.logWarning("schemas not captured: they do not exist yet", { schemas: missing })
  return { missing }
})

export interface Table {
  readonly schema: string
  readonly table: string
}

/** Every table the publication covers, in a stable order. */
export const publishedTables = (db: PgClient, publication: string) =>
  db
    .query(
      "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY schemaname, tablename",
      [publication]
    )
    .pipe(
      Effect.map(
        (rows): ReadonlyArray<Table> => rows.map((r) => ({ schema: r["schemaname"]!, table: r["tablename"]! }))
      )
    )

/** Primary-key columns in key order; empty when the table has none. */
export const primaryKey = (db: PgClient, relation: { readonly oid: number } | Table) =>
  db
    .query(
      `SELECT a.attname
       FROM pg_index i
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = ${"oid" in relation ? "$1::oid" : "$1::regclass"} AND i.indisprimary
      ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [
        "oid" in relation
          ? relation.oid
          : `${pg.escapeIdentifier(relation.schema)}.${pg.escapeIdentifier(relation.table)}`
      ]
    )
    .pipe(Effect.map((rows) => rows.map((r) => r["attname"]!)))

export interface SlotState {
  readonly confirmedFlushLsn: string | null
  readonly active: boolean
  readonly plugin: string | null
  readonly database: string | null
  /** "lost" when max_slot_wal_keep_size removed WAL the slot still needed. */
  readonly walStatus: string | null
}

export const slot = (db: PgClient, name: string) =>
  db
    .query(
      "SELECT confirmed_flush_lsn::text AS lsn, active::text AS active, plugin, database, wal_status FROM pg_replication_slots WHERE slot_name = $1",
      [name]
    )
    .pipe(
      Effect.map(
        ([row]): SlotState | undefined =>
          row && {
            confirmedFlushLsn: row["lsn"] ?? null,
            active: row["active"] === "true",
            plugin: row["plugin"] ?? null,
            database: row["database"] ?? null,
            walStatus: row["wal_status"] ?? null
          }
      )
    )

export interface SlotLag {
  /** WAL written since the slot's confirmed position: what the connector has yet to confirm. */
  readonly lagBytes: number
  /** WAL the server keeps for the slot (from restart_lsn): the disk the slot holds on to. */
  readonly retainedBytes: number
  readonly active: boolean
  /** reserved / extended / unreserved / lost (lost: max_slot_wal_keep_size removed needed WAL). */
  readonly walStatus: string
  /** Bytes that may still be written before the slot is at risk; null without a limit. */
  readonly safeWalBytes: number | null
}

/** How far behind the slot is; undefined when it does not exist. */
export const slotLag = (db: PgClient, name: string) =>
  db
    .query(
      `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text AS lag,
            pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text AS retained,
            active::text AS active, wal_status, safe_wal_size::text AS safe
       FROM pg_replication_slots WHERE slot_name = $1`,
      [name]
    )
    .pipe(
      Effect.map(
        ([row]): SlotLag | undefined =>
          row && {
            lagBytes: Number(row["lag"] ?? 0),
            retainedBytes: Number(row["retained"] ?? 0),
            active: row["active"] === "true",
            walStatus: row["wal_status"] ?? "unknown",
            safeWalBytes: row["safe"] === null || row["safe"] === undefined ? null : Number(row["safe"])
          }
      )
    )

/** Whether the server can do logical decoding at all (wal_level=logical). */
export const walLevel = (db: PgClient) =>
  db.query("SHOW wal_level").pipe(Effect.map(([row]) => row?.["wal_level"] ?? "unknown"))
