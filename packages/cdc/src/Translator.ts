// Turns decoded pgoutput messages into CDC stream entries (contracts/Cdc.ts). Pure and
// incremental: a change becomes an entry the moment it arrives, and only the few facts of the
// open transaction are kept (never its rows), so a transaction of any size streams through in
// constant memory. PostgreSQL's Begin message already carries the final commit LSN, commit
// time and xid, which is what lets every entry carry its position before the commit is seen.
//
// Trace context: a row with a `traceparent` column (deposits.transactions, migration 011: the
// payments actor writes its booking span there) names the trace its transaction belongs to.
// The column is never data: it is removed from every row here, before any stream, filter
// (ColumnFilter.ts) or consumer sees it, and the first value of a transaction becomes the
// `traceparent` of that transaction's entries from there on and of its TransactionCommitted
// entries; StreamWriter.ts continues the trace from it under the connector's own span.
import { Cdc } from "@bank/contracts"
import * as Lsn from "./Lsn.ts"
import { type PgOutputMessage, ProtocolError, type TupleValue, Unchanged } from "./PgOutput.ts"

export interface Relation {
  readonly schema: string
  readonly table: string
  readonly columns: ReadonlyArray<string>
  /** Primary-key columns (the replica-identity columns when the table has no primary key). */
  readonly primaryKey: ReadonlyArray<string>
}

/** An entry for partition `partition` of the stream of `system`, keyed by `key` (the envelope's ordering key). */
export interface Outgoing {
  readonly system: string
  /** Cdc.partitionOf(key, P); 0 for unpartitioned systems. */
  readonly partition: number
  readonly key: string
  readonly payload: Cdc.CdcMessage
  /** The trace the change belongs to (a W3C traceparent from its transaction's rows), if any. */
  readonly traceparent?: string | undefined
}

/** The column that carries a row's trace context instead of data. */
export const TRACE_COLUMN = "traceparent"

/** `row` without its trace column (the same object when it has none). */
export const withoutTrace = (row: Cdc.Row): Cdc.Row => {
  if (!(TRACE_COLUMN in row)) return row
  const { [TRACE_COLUMN]: _trace, ...rest } = row
  return rest
}

/** The partition of an entry of `system` with envelope key `key`. */
export const partitionFor = (system: string, key: string, partitions: number): number =>
  Cdc.unpartitioned.has(system) ? 0 : Cdc.partitionOf(key, partitions)

export interface Step {
  readonly entries: ReadonlyArray<Outgoing>
  /** Set on Commit: the LSN to confirm to the server once `entries` so far are in Redis. */
  readonly committedEndLsn?: bigint
}

/** Where one table's changes go: the stream of its schema. */
export const systemOf = (relation: Pick<Relation, "schema">): string => relation.schema

/** The envelope key: the customer when the row names one, else the table and primary key. */
export const envelopeKey = (relation: Relation, key: Cdc.Row, row: Cdc.Row | undefined): string => {
  const customer = row?.["customer_id"] ?? key["customer_id"]
  if (typeof customer === "string" && customer !== "") return customer
  return `${relation.schema}.${relation.table}:${relation.primaryKey.map((c) => key[c] ?? "").join(",")}`
}

const pick = (row: Cdc.Row, columns: ReadonlyArray<string>): Cdc.Row => {
  const out: Record<string, string | null> = {}
  for (const c of columns) if (c in row) out[c] = row[c]!
  return out
}

interface OpenTransaction {
  readonly xid: number
  readonly commitLsn: string
  readonly commitTime: string
  seq: number
  /** The first trace context a row of the transaction named. */
  traceparent: string | undefined
  /** Per stream partition: changes so far and their envelope key while they all share one. */
  readonly perStream: Map<string, { system: string; partition: number; changes: number; key: string | undefined }>
}

/** `partitions`: P of the system streams (Cdc.partitionsConfig). */
export const make = (partitions: number = Cdc.defaultPartitions) => {
  const relations = new Map<number, Relation>()
  let tx: OpenTransaction | undefined

  /**
   * A tuple as a row; TOASTed values PostgreSQL did not resend are listed apart. The trace
   * column is not data: dropped, and a new tuple's (never an old one's: that is an earlier
   * writer's) names the open transaction's trace unless an earlier row did.
   */
  const toRow = (relation: Relation, values: ReadonlyArray<TupleValue>, fallback?: Cdc.Row, isNew = false) => {
    const row: Record<string, string | null> = {}
    const unchanged: Array<string> = []
    relation.columns.forEach((name, i) => {
      const value = values[i]
      if (name === TRACE_COLUMN) {
        if (isNew && typeof value === "string" && tx !== undefined) tx.traceparent ??= value
        return
      }
      if (value === Unchanged || value === undefined) {
        // The old row (REPLICA IDENTITY FULL) may hold the value the update left alone.
        const before = fallback?.[name]
        if (before !== undefined) row[name] = before
        else unchanged.push(name)
      } else {
        row[name] = value
      }
    })
    return { row, unchanged }
  }

  const relationOf = (id: number): Relation => {
    const relation = relations.get(id)
    if (!relation) throw new ProtocolError(`change for relation ${id} before its Relation message`)
    return relation
  }

  const openTx = (): OpenTransaction => {
    if (!tx) throw new ProtocolError("change outside a transaction")
    return tx
  }

  const change = (
    relation: Relation,
    op: "insert" | "update" | "delete" | "truncate",
    parts: { key: Cdc.Row; old?: Cdc.Row; new?: Cdc.Row; unchanged?: ReadonlyArray<string> }
  ): Outgoing => {
    const t = openTx()
    const system = systemOf(relation)
    const payload: Cdc.RowChanged = {
      _tag: "RowChanged",
      schema: relation.schema,
      table: relation.table,
      op,
      key: parts.key,
      ...(parts.old ? { old: parts.old } : {}),
      ...(parts.new ? { new: parts.new } : {}),
      ...(parts.unchanged && parts.unchanged.length > 0 ? { unchanged: parts.unchanged } : {}),
      commitLsn: t.commitLsn,
      seq: t.seq++,
      commitTime: t.commitTime,
      xid: t.xid
    }
    const key =
      op === "truncate"
        ? `${relation.schema}.${relation.table}`
        : envelopeKey(relation, parts.key, parts.new ?? parts.old)
    const partition = partitionFor(system, key, partitions)
    const stream = `${system}#${partition}`
    const counted = t.perStream.get(stream)
    if (!counted) t.perStream.set(stream, { system, partition, changes: 1, key })
    else
      t.perStream.set(stream, { ...counted, changes: counted.changes + 1, key: counted.key === key ? key : undefined })
    return t.traceparent === undefined
      ? { system, partition, key, payload }
      : { system, partition, key, payload, traceparent: t.traceparent }
  }

  const apply = (message: PgOutputMessage): Step => {
    switch (message._tag) {
      case "Begin":
        tx = {
          xid: message.xid,
          commitLsn: Lsn.format(message.finalLsn),
          commitTime: Lsn.timestampToIso(message.commitTime),
          seq: 0,
          traceparent: undefined,
          perStream: new Map()
        }
        return { entries: [] }
      case "Insert": {
        const relation = relationOf(message.relationId)
        const { row } = toRow(relation, message.newTuple, undefined, true)
        return { entries: [change(relation, "insert", { key: pick(row, relation.primaryKey), new: row })] }
      }
      case "Update": {
        const relation = relationOf(message.relationId)
        const old = message.oldTuple ? toRow(relation, message.oldTuple).row : undefined
        const next = toRow(relation, message.newTuple, message.oldKind === "full" ? old : undefined, true)
        const parts = { key: pick(next.row, relation.primaryKey), new: next.row, unchanged: next.unchanged }
        return { entries: [change(relation, "update", old ? { ...parts, old } : parts)] }
      }
      case "Delete": {
        const relation = relationOf(message.relationId)
        const { row } = toRow(relation, message.oldTuple)
        // With a key-only identity the other columns arrive as NULL: keep only the key then.
        const old = message.oldKind === "full" ? row : pick(row, relation.primaryKey)
        return { entries: [change(relation, "delete", { key: pick(row, relation.primaryKey), old })] }
      }
      case "Truncate":
        return { entries: message.relationIds.map((id) => change(relationOf(id), "truncate", { key: {} })) }
      case "Commit": {
        const t = openTx()
        tx = undefined
        const total = t.seq
        const entries: Array<Outgoing> = [...t.perStream.values()].map(({ system, partition, changes, key }) => ({
          system,
          partition,
          ...(t.traceparent === undefined ? {} : { traceparent: t.traceparent }),
          // The changes' own key when they share one (one customer's transaction), so per-key
          // consumers see the commit after that customer's changes.
          key: key ?? `xid:${t.xid}`,
          payload: {
            _tag: "TransactionCommitted",
            commitLsn: t.commitLsn,
            seq: total,
            commitTime: t.commitTime,
            xid: t.xid,
            changes,
            total
          }
        }))
        return { entries, committedEndLsn: message.endLsn }
      }
      case "Relation":
      case "Type":
      case "Origin":
      case "Message":
        return { entries: [] }
    }
  }

  return {
    apply,
    /** Registers (or replaces, after a schema change) what a relation id means. */
    defineRelation: (relationId: number, relation: Relation) => void relations.set(relationId, relation),
    /** Whether a transaction is open: its entries so far are not yet confirmable. */
    get inTransaction() {
      return tx !== undefined
    }
  }
}

export type Translator = ReturnType<typeof make>
