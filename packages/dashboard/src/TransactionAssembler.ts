// Turns one CDC stream's entries, in stream order, into units the projection applies whole:
// a database transaction's RowChanged entries wait until its TransactionCommitted arrives, then
// become one unit per customer; a snapshot row is a unit by itself. Pure and incremental: the
// consumer feeds each batch as it reads it, and acknowledges exactly the entries `feed` lists,
// so the rows of a transaction still open stay pending in Redis and come back after a crash.
// A transaction's units carry its commit entry's traceparent (the CDC connector's span for a
// traced transaction), so the projector's write continues the customer's trace.
import { Cdc } from "@bank/contracts"
import { customerOf, type Unit } from "./Dashboard.ts"
import { encode, snapshotStart } from "./Positions.ts"

export interface Entry {
  readonly entryId: string
  readonly payload: Cdc.CdcMessage
  /** The entry's envelope traceparent. */
  readonly traceparent?: string | undefined
}

export interface CustomerUnit {
  readonly customerId: string
  readonly unit: Unit
}

export interface Assembled {
  /** Complete units, in stream order. */
  readonly units: ReadonlyArray<CustomerUnit>
  /** Entries done with once `units` are applied: acknowledge these, and only these. */
  readonly ack: ReadonlyArray<string>
  /** What did not add up (missing rows, orphaned transactions, truncates), for the log. */
  readonly warnings: ReadonlyArray<string>
}

interface OpenTransaction {
  readonly lsn: bigint
  readonly entries: Array<{ readonly entryId: string; readonly row: Cdc.RowChanged }>
}

// Splits a transaction's rows by customer. A row moved to another customer (its customer_id
// changed) leaves the old customer's document as a delete.
const byCustomer = (rows: ReadonlyArray<Cdc.RowChanged>, warnings: Array<string>) => {
  const out = new Map<string, Array<Cdc.RowChanged>>()
  const add = (customerId: string, row: Cdc.RowChanged) => {
    const list = out.get(customerId) ?? []
    list.push(row)
    out.set(customerId, list)
  }
  for (const row of rows) {
    const customerId = customerOf(row)
    if (customerId === undefined) {
      if (row.op === "truncate")
        warnings.push(`${row.schema}.${row.table} was truncated: documents keep its rows until a rebuild`)
      continue
    }
    const before = row.old?.customer_id
    if (row.op === "update" && row.old && before != null && before !== customerId) {
      const { new: _moved, unchanged: _unchanged, ...rest } = row
      add(before, { ...rest, op: "delete" })
    }
    add(customerId, row)
  }
  return out
}

export const make = () => {
  const open = new Map<number, OpenTransaction>()

  const feed = (entries: ReadonlyArray<Entry>): Assembled => {
    const units: Array<CustomerUnit> = []
    const ack: Array<string> = []
    const warnings: Array<string> = []
    for (const { entryId, payload, traceparent } of entries) {
      switch (payload._tag) {
        case "RowChanged": {
          if (payload.op === "snapshot") {
            const customerId = customerOf(payload)
            if (customerId !== undefined) {
              units.push({
                customerId,
                unit: {
                  position: encode(payload),
                  commitTime: payload.commitTime,
                  rows: [payload],
                  snapshotStart: snapshotStart(payload.commitLsn)
                }
              })
            }
            ack.push(entryId)
            break
          }
          const tx = open.get(payload.xid) ?? { lsn: Cdc.lsnToBigInt(payload.commitLsn), entries: [] }
          tx.entries.push({ entryId, row: payload })
          open.set(payload.xid, tx)
          break
        }
        case "TransactionCommitted": {
          const lsn = Cdc.lsnToBigInt(payload.commitLsn)
          // Transactions commit in LSN order on a stream: an open one older than this commit
          // lost its commit entry (trimmed, or a partial redelivery) and can never complete.
          for (const [xid, tx] of open) {
            if (tx.lsn < lsn) {
              open.delete(xid)
              ack.push(...tx.entries.map((e) => e.entryId))
              warnings.push(`transaction ${xid} had no commit entry; its ${tx.entries.length} rows were dropped`)
            }
          }
          const tx = open.get(payload.xid)
          open.delete(payload.xid)
          const rows = tx?.entries ?? []
          if (rows.length !== payload.changes) {
            warnings.push(
              `transaction ${payload.xid} at ${payload.commitLsn}: ${rows.length} of its ${payload.changes} rows were read`
            )
          }
          const position = encode(payload)
          for (const [customerId, customerRows] of byCustomer(
            rows.map((e) => e.row),
            warnings
          )) {
            units.push({
              customerId,
              unit: { position, commitTime: payload.commitTime, rows: customerRows, traceparent }
            })
          }
          ack.push(...rows.map((e) => e.entryId), entryId)
          break
        }
        case "SnapshotStarted":
        case "SnapshotCompleted":
          ack.push(entryId)
          break
      }
    }
    return { units, ack, warnings }
  }

  return {
    feed,
    /** Rows held for transactions whose commit has not arrived yet. */
    get openRows(): number {
      let n = 0
      for (const tx of open.values()) n += tx.entries.length
      return n
    }
  }
}

export type Assembler = ReturnType<typeof make>
