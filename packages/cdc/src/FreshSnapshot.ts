// A consistent copy of some systems of record, for rebuilding a read model: a TEMPORARY logical
// replication slot exports a snapshot at its consistent point, and the CDC connector's own
// snapshot reader (@bank/records/cdc/Snapshot) copies the tables in it, a page at a time.
// Closing the replication connection drops the slot, also when the copy fails.
//
// Why a slot rather than a plain REPEATABLE READ transaction: the copy must hold exactly the
// transactions committed before a known WAL position (the returned `lsn`), so that a consumer of
// the CDC streams can take over from it by position: every change whose commit LSN is at or
// after `lsn` is new to the copy, every one before it is already in it.
import type { Cdc } from "@bank/contracts"
import { CdcError } from "./CdcError.ts"
import * as Lsn from "./Lsn.ts"
import * as PgConnection from "./PgConnection.ts"
import * as Snapshot from "./Snapshot.ts"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"

export interface FreshSnapshotOptions<E, R> {
  readonly databaseUrl: string
  /** The CDC connector's publication: which tables the systems have. */
  readonly publication: string
  /** The systems (schemas) to copy. */
  readonly systems: ReadonlyArray<string>
  /** Rows read and applied at a time (default 1000). */
  readonly pageSize?: number
  /** Applies one page of one system's rows (op "snapshot", positions at the snapshot's LSN). */
  readonly apply: (system: string, rows: ReadonlyArray<Cdc.RowChanged>) => Effect.Effect<void, E, R>
  readonly onRows?: (rows: number) => void
}

export interface FreshSnapshot {
  /** The consistent point: the copy holds exactly the transactions committed before it. */
  readonly lsn: string
  readonly rows: number
  readonly tables: number
}

export const take = <E, R>(options: FreshSnapshotOptions<E, R>): Effect.Effect<FreshSnapshot, CdcError, R> =>
  Effect.scoped(
    Effect.gen(function* () {
      const context = yield* Effect.context<R>()
      const replication = yield* PgConnection.connect(options.databaseUrl, { name: "rebuild-slot", replication: true })
      const slot = `rebuild_${Date.now()}_${randomBytes(3).toString("hex")}`
      // The exported snapshot stays valid while `replication` runs no other command.
      const created = yield* PgConnection.createSlot(replication, slot, { temporary: true })
      const db = yield* PgConnection.connect(options.databaseUrl, { name: "rebuild-snapshot" })
      const result = yield* Snapshot.run({
        db,
        snapshotName: created.snapshotName,
        consistentPoint: created.consistentPoint,
        publication: options.publication,
        systems: options.systems,
        schemas: options.systems,
        pageSize: options.pageSize ?? 1000,
        // Rows go to `apply` directly, never to a stream: the layout does not matter.
        partitions: 1,
        // Snapshot.run speaks CdcError; what applying failed with travels as its cause.
        write: (entries) => {
          const rows = entries.flatMap((e) => (e.payload._tag === "RowChanged" ? [e.payload] : []))
          const system = entries[0]?.system
          if (rows.length === 0 || system === undefined) return Effect.void
          return options.apply(system, rows).pipe(
            Effect.provideContext(context),
            Effect.mapError(
              (cause) =>
                new CdcError({
                  reason: "Redis",
                  message: `applying snapshot rows of ${system}: ${String(cause)}`,
                  cause
                })
            )
          )
        },
        ...(options.onRows ? { onRows: options.onRows } : {})
      })
      return { lsn: Lsn.format(created.consistentPoint), rows: result.rows, tables: result.tables }
    })
  )
