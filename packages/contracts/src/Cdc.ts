// Change data capture: what the CDC connector puts on the streams of each system of record
// (customer, crm, deposits, cards, lending, investments), and of the reference data.
//
// - Partitions. A system's changes are spread over P streams, `cdc.<system>.p0` ... `p<P-1>`
//   (P = CDC_PARTITIONS, default 4): a row goes to partition `partitionOf(<its envelope key>, P)`,
//   the FNV-1a hash of its customer id (of table and primary key when it has no customer) mod P.
//   So one customer's changes keep their order within one partition, partitions can be owned by
//   different consumer processes, and each lands in its own Redis Cluster slot
//   (`stream:{s:cdc.deposits.p2}`). The reference data is small and stays one stream, `cdc.ref`.
//   Changing P is a new snapshot into the new layout (the connector takes one when the recorded
//   P differs).
// - Column values are PostgreSQL's own text output (strings), `null` for SQL NULL: a bigint or
//   numeric is never turned into a JS number, so money stays exact. Timestamps are in UTC
//   (`2025-06-15 10:00:00.123456+00`), dates ISO, arrays in PostgreSQL's `{a,b}` form.
// - Every entry has a position `(commitLsn, seq)`: the commit LSN of its database transaction and
//   its index within that transaction. Positions only ever increase along a stream, so a consumer
//   that remembers the last position it applied drops redelivered entries with `isNewer`.
// - A transaction's `RowChanged` entries come first, then one `TransactionCommitted` on every
//   stream (partition) it touched, so a consumer can apply the whole database transaction together.
// - A fresh connector first copies every table: `SnapshotStarted`, one `RowChanged` with
//   op "snapshot" per row, `SnapshotCompleted`, all at the snapshot's LSN; streaming continues
//   from exactly that LSN, with no gap and no double. A later `SnapshotStarted` with another
//   LSN (Redis lost its data, or the slot had to be recreated) starts over: clear what you built
//   from this stream and forget your last position, then apply the new snapshot.
// - The envelope key is the row's `customer_id` when the table has one (per-customer order),
//   else `<schema>.<table>:<primary key values>`.
import { Config, Effect, Schema } from "effect"
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

/** Partitions per system stream unless CDC_PARTITIONS says otherwise. */
export const defaultPartitions = 4

/** The partition count every process must agree on: CDC_PARTITIONS (default 4), read in layers. */
export const partitionsConfig = Config.schema(
  Schema.Int.check(Schema.isGreaterThanOrEqualTo(1), Schema.isLessThanOrEqualTo(1024)),
  "CDC_PARTITIONS"
).pipe(Config.withDefault(defaultPartitions))

/** The partition count as an Effect that cannot fail (a bad CDC_PARTITIONS stops the process at start-up anyway). */
export const partitionCount = Effect.orDie(
  Effect.gen(function* () {
    return yield* partitionsConfig
  })
)

/**
 * Systems whose streams are not partitioned: the reference data (small, read whole by everyone)
 * and identity's private copy of the login data (read by shared-mode consumers only).
 */
export const unpartitioned: ReadonlySet<string> = new Set(["ref", "identity"])

const spec = (name: string, retention?: StreamSpec.Retention): StreamSpec.StreamSpec<CdcMessage> =>
  StreamSpec.define({
    name,
    schema: CdcMessage,
    // Larger than the platform's default: a snapshot of a big table must still be there when a
    // slow projector reaches it. Trimming below what a group still needs never happens
    // (platform Retention.ts); this is the emergency brake.
    retention: retention ?? { maxLen: 10_000_000 }
  })

/** The one stream of an unpartitioned system, e.g. `stream("ref")` is `cdc.ref`. */
export const stream = (system: string, retention?: StreamSpec.Retention): StreamSpec.StreamSpec<CdcMessage> =>
  spec(`cdc.${system}`, retention)

/** FNV-1a (32 bit) of `key` mod `partitions`: stable across processes, versions and hosts. */
export const partitionOf = (key: string, partitions: number): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) % partitions
}

/** The stream of one partition of a system, e.g. `cdc.deposits.p2`; `cdc.ref` for unpartitioned ones. */
export const partition = (
  system: string,
  index: number,
  retention?: StreamSpec.Retention
): StreamSpec.StreamSpec<CdcMessage> =>
  unpartitioned.has(system) ? stream(system, retention) : spec(`cdc.${system}.p${index}`, retention)

/** Every stream of a system, in partition order. */
export const streams = (
  system: string,
  partitions: number,
  retention?: StreamSpec.Retention
): ReadonlyArray<StreamSpec.StreamSpec<CdcMessage>> =>
  unpartitioned.has(system)
    ? [stream(system, retention)]
    : Array.from({ length: partitions }, (_, i) => partition(system, i, retention))

/** The stream an entry with envelope key `key` of `system` goes to. */
export const streamFor = (system: string, key: string, partitions: number): StreamSpec.StreamSpec<CdcMessage> =>
  unpartitioned.has(system) ? stream(system) : partition(system, partitionOf(key, partitions))

/** The system a CDC stream name belongs to (`cdc.deposits.p2` → deposits), or undefined. */
export const systemOfStream = (name: string): string | undefined =>
  /^cdc\.([a-z_][a-z0-9_]*)(?:\.p\d+)?$/.exec(name)?.[1]

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
