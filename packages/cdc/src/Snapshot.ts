// The initial copy of every published table, read in the snapshot the replication slot
// exported when it was created: exactly the transactions committed before the slot's
// consistent point are visible, and streaming from that point delivers exactly the ones after,
// so the hand-off has no gap and no double. Rows are read through a cursor, a page at a time,
// and written to Redis page by page: a table of any size passes in bounded memory.
import { Cdc } from "@bank/contracts"
import { Effect } from "effect"
import pg from "pg"
import * as Catalog from "./Catalog.ts"
import * as CdcError from "./CdcError.ts"
import * as Lsn from "./Lsn.ts"
import type { PgClient } from "./PgConnection.ts"
import {
  envelopeKey,
  type Outgoing,
  partitionFor,
  type Relation,
  systemOf,
  TRACE_COLUMN,
  withoutTrace
} from "./Translator.ts"

export interface SnapshotOptions {
  /** A plain connection to read with (not the replication connection). */
  readonly db: PgClient
  readonly snapshotName: string
  readonly consistentPoint: bigint
  readonly publication: string
  /** Every system stream gets SnapshotStarted/SnapshotCompleted, even one with no table yet. */
  readonly systems: ReadonlyArray<string>
  /** Copy only the published tables of these schemas (a rebuild needs its sources alone); default all. */
  readonly schemas?: ReadonlyArray<string>
  readonly pageSize: number
  /** P of the system streams: every partition gets SnapshotStarted/SnapshotCompleted. */
  readonly partitions: number
  readonly write: (entries: ReadonlyArray<Outgoing>) => Effect.Effect<void, CdcError.CdcError>
  readonly onRows?: (rows: number) => void
}

export interface SnapshotResult {
  readonly rows: number
  readonly tables: number
}

export const run = Effect.fn("Snapshot.run")(function* (options: SnapshotOptions) {
  const { db } = options
  const commitLsn = Lsn.format(options.consistentPoint)
  const startedAt = new Date().toISOString()
  let seq = 0
  const everyStream = options.systems.flatMap((system) =>
    Cdc.streams(system, options.partitions).map((_, partition) => ({ system, partition }))
  )
  const streamKey = (system: string, partition: number) => `${system}#${partition}`
  yield* options.write(
    everyStream.map(({ system, partition }) => ({
      system,
      partition,
      key: `snapshot:${commitLsn}`,
      payload: { _tag: "SnapshotStarted", commitLsn, seq, startedAt } satisfies Cdc.SnapshotStarted
    }))
  )
  seq++

  yield* db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
  yield* db.query(`SET TRANSACTION SNAPSHOT ${pg.escapeLiteral(options.snapshotName)}`)
  const published = yield* Catalog.publishedTables(db, options.publication)
  const tables = options.schemas ? published.filter((t) => options.schemas!.includes(t.schema)) : published
  const rowsPerStream = new Map<string, number>()
  const tablesPerSystem = new Map<string, Array<string>>(options.systems.map((s) => [s, []]))

  for (const table of tables) {
    const primaryKey = yield* Catalog.primaryKey(db, table)
    const qualified = `${pg.escapeIdentifier(table.schema)}.${pg.escapeIdentifier(table.table)}`
    yield* db.query(`DECLARE cdc_snapshot NO SCROLL CURSOR FOR SELECT * FROM ${qualified}`)
    let relation: Relation | undefined
    while (true) {
      const result = yield* Effect.tryPromise({
        try: () => db.client.query(`FETCH ${options.pageSize} FROM cdc_snapshot`),
        catch: CdcError.database(`reading ${table.schema}.${table.table}`)
      })
      if (!relation) {
        // A row's trace column is not data (Translator.ts): a copy carries no trace.
        const columns = result.fields.map((f) => f.name).filter((name) => name !== TRACE_COLUMN)
        relation = { ...table, columns, primaryKey: primaryKey.length > 0 ? primaryKey : columns }
      }
      const system = systemOf(relation)
      const entries: Array<Outgoing> = (result.rows as Array<Cdc.Row>).map(withoutTrace).map((row) => {
        const key: Record<string, string | null> = {}
        for (const c of relation!.primaryKey) key[c] = row[c] ?? null
        const payload: Cdc.RowChanged = {
          _tag: "RowChanged",
          schema: table.schema,
          table: table.table,
          op: "snapshot",
          key,
          new: row,
          commitLsn,
          seq: seq++,
          commitTime: startedAt,
          xid: 0
        }
        const envelope = envelopeKey(relation!, key, row)
        return { system, partition: partitionFor(system, envelope, options.partitions), key: envelope, payload }
      })
      yield* options.write(entries)
      for (const entry of entries) {
        const k = streamKey(entry.system, entry.partition)
        rowsPerStream.set(k, (rowsPerStream.get(k) ?? 0) + 1)
      }
      options.onRows?.(entries.length)
      if (result.rows.length < options.pageSize) break
    }
    yield* db.query("CLOSE cdc_snapshot")
    tablesPerSystem.get(systemOf(table))?.push(`${table.schema}.${table.table}`)
    yield* Effect.logInfo("snapshot table done", { table: `${table.schema}.${table.table}` })
  }
  yield* db.query("COMMIT")

  const completedAt = new Date().toISOString()
  yield* options.write(
    everyStream.map(({ system, partition }) => ({
      system,
      partition,
      key: `snapshot:${commitLsn}`,
      payload: {
        _tag: "SnapshotCompleted",
        commitLsn,
        seq,
        rows: rowsPerStream.get(streamKey(system, partition)) ?? 0,
        tables: tablesPerSystem.get(system) ?? [],
        completedAt
      } satisfies Cdc.SnapshotCompleted
    }))
  )
  return { rows: seq - 1, tables: tables.length } satisfies SnapshotResult
})
