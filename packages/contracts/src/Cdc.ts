// Change data capture: what the CDC connector puts on the `cdc.<system>` streams, one stream per
// system of record (customer, crm, deposits, cards, lending, investments).
//
// - Column values are PostgreSQL's own text output (strings), `null` for SQL NULL: a bigint or
//   numeric is never turned into a JS number, so money stays exact. Timestamps are in UTC
//   (`2025-06-15 10:00:00.123456+00`), dates ISO, arrays in PostgreSQL's `{a,b}` form.
// - Every entry has a position `(commitLsn, seq)`: the commit LSN of its database transaction and
//   its index within that transaction. Positions only ever increase along a stream, so a consumer
//   that remembers the last position it applied drops redelivered entries with `isNewer`.
// - A transaction's `RowChanged` entries come first, then one `TransactionCommitted` on every
//   stream it touched, so a consumer can apply the whole database transaction together.
// - A fresh connector first copies every table: `SnapshotStarted`, one `RowChanged` with
//   op "snapshot" per row, `SnapshotCompleted`, all at the snapshot's LSN; streaming continues
//   from exactly that LSN, with no gap and no double. A later `SnapshotStarted` with another
//   LSN (Redis lost its data, or the slot had to be recreated) starts over: clear what you built
//   from this stream and forget your last position, then apply the new snapshot.
// - The envelope key is the row's `customer_id` when the table has one (per-customer order),
//   else `<schema>.<table>:<primary key values>`.
import { Config, Schema } from "effect"
import { Keys, StreamSpec } from "@bank/platform"

/** The systems of record whose tables are captured, one stream each. */
export const systems = ["customer", "crm", "deposits", "cards", "lending", "investments"] as const

/** What the connector captures by default: the systems plus the reference data (`cdc.ref`). */
export const capturedSchemas = [...systems, "ref"] as const

/** A row as column name → PostgreSQL text output, `null` for NULL. */
export const Row = Schema.Record(Schema.String, Schema.NullOr(Schema.String))
export type Row = typeof Row.Type

/** A PostgreSQL LSN in its usual `X/Y` hex form, e.g. `16/B374D848`. */
export const Lsn = Schema.String.check(Schema.isPattern(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/))

const Seq = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

const position = {
  /** LSN of the commit record of the transaction (for a snapshot: the slot's consistent point). */
  commitLsn: Lsn,
  /** Index of this entry within its transaction (or snapshot). */
  seq: Seq
}

export const RowChanged = Schema.TaggedStruct("RowChanged", {
  schema: Schema.String,
  table: Schema.String,
  op: Schema.Literals(["insert", "update", "delete", "truncate", "snapshot"]),
  /** Primary-key columns and their values (for a truncate: empty). */
  key: Row,
  /** The row before an update or delete: the whole row with REPLICA IDENTITY FULL, else the key. */
  old: Schema.optionalKey(Row),
  /** The row after an insert or update, or as the snapshot read it. */
  new: Schema.optionalKey(Row),
  /**
   * Large (TOASTed) columns an update left unchanged and PostgreSQL did not resend: absent from
   * `new`; keep the value you have.
   */
  unchanged: Schema.optionalKey(Schema.Array(Schema.String)),
  ...position,
  /** Commit time, ISO-8601 UTC with microseconds. */
  commitTime: Schema.String,
  /** PostgreSQL transaction id (0 for snapshot rows). */
  xid: Schema.Int
})
export type RowChanged = typeof RowChanged.Type

/** Closes a transaction on one stream: its `changes` entries on this stream came before. */
export const TransactionCommitted = Schema.TaggedStruct("TransactionCommitted", {
  ...position,
  commitTime: Schema.String,
  xid: Schema.Int,
  /** RowChanged entries of this transaction on this stream. */
  changes: Seq,
  /** RowChanged entries of this transaction on all streams; `seq` equals it. */
  total: Seq
})
export type TransactionCommitted = typeof TransactionCommitted.Type

/** A snapshot of every table begins: whatever a consumer built from older positions is superseded. */
export const SnapshotStarted = Schema.TaggedStruct("SnapshotStarted", {
  ...position,
  startedAt: Schema.String
})
export type SnapshotStarted = typeof SnapshotStarted.Type

/** The snapshot is complete on this stream: `rows` snapshot rows of `tables` came before. */
export const SnapshotCompleted = Schema.TaggedStruct("SnapshotCompleted", {
  ...position,
  rows: Seq,
  tables: Schema.Array(Schema.String),
  completedAt: Schema.String
})
export type SnapshotCompleted = typeof SnapshotCompleted.Type

export const CdcMessage = Schema.Union([RowChanged, TransactionCommitted, SnapshotStarted, SnapshotCompleted])
export type CdcMessage = typeof CdcMessage.Type

/** The stream of one system, e.g. `stream("deposits")` is `cdc.deposits`. */
export const stream = (system: string, retention?: StreamSpec.Retention): StreamSpec.StreamSpec<CdcMessage> =>
  StreamSpec.define({
    name: `cdc.${system}`,
    schema: CdcMessage,
    // Larger than the platform's default: a snapshot of a big table must still be there when a
    // slow projector reaches it.
    retention: retention ?? { maxLen: 10_000_000 }
  })

export interface Position {
  readonly commitLsn: string
  readonly seq: number
}

/** The LSN `X/Y` as one 64-bit number. */
export const lsnToBigInt = (lsn: string): bigint => {
  const slash = lsn.indexOf("/")
  if (slash < 1) throw new RangeError(`not an LSN: ${lsn}`)
  return (BigInt(`0x${lsn.slice(0, slash)}`) << 32n) | BigInt(`0x${lsn.slice(slash + 1)}`)
}

export const comparePositions = (a: Position, b: Position): -1 | 0 | 1 => {
  const la = lsnToBigInt(a.commitLsn)
  const lb = lsnToBigInt(b.commitLsn)
  if (la !== lb) return la < lb ? -1 : 1
  return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1
}

/**
 * Whether an entry at `position` is still to be applied by a consumer whose last applied entry
 * (on the same stream) was at `lastApplied`. False means a redelivery: drop it.
 */
export const isNewer = (position: Position, lastApplied: Position | undefined): boolean =>
  lastApplied === undefined || comparePositions(position, lastApplied) > 0

/** The replication slot the connector uses unless CDC_SLOT says otherwise. */
export const defaultSlot = "bank_cdc"

/** Redis key the connector sets once the slot's snapshot is complete: what readers wait for. */
export const snapshotMarker = (slot: string): string => Keys.global(`cdc:${slot}:snapshot`)

/** The snapshot marker of the slot in CDC_SLOT: what readiness waits for (platform/Readiness.ts). */
export const snapshotMarkerConfig: Config.Config<string> = Config.schema(
  Schema.String.check(Schema.isPattern(/^[a-z_][a-z0-9_]{0,62}$/)),
  "CDC_SLOT"
).pipe(Config.withDefault(defaultSlot), Config.map(snapshotMarker))
