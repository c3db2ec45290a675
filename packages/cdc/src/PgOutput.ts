// The streaming replication protocol as far as a logical-replication client needs it, and the
// pgoutput plugin's messages (protocol version 1), decoded from their binary form:
// https://www.postgresql.org/docs/15/protocol-replication.html
// https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
// Pure: bytes in, plain objects out, so every message type is unit-tested without a server.

/** A CopyData payload from the server during START_REPLICATION. */
export type ServerMessage =
  | { readonly _tag: "XLogData"; readonly walStart: bigint; readonly walEnd: bigint; readonly data: Buffer }
  | { readonly _tag: "Keepalive"; readonly walEnd: bigint; readonly replyRequested: boolean }

/** One column of a tuple: its text, SQL NULL, or "unchanged TOASTed value, not sent". */
export type TupleValue = string | null | typeof Unchanged
export const Unchanged: unique symbol = Symbol.for("@bank/records/cdc/Unchanged")

export interface RelationColumn {
  readonly name: string
  /** Part of the replica identity (all columns with REPLICA IDENTITY FULL). */
  readonly isKey: boolean
  readonly typeOid: number
  readonly typeMod: number
}

export type PgOutputMessage =
  | { readonly _tag: "Begin"; readonly finalLsn: bigint; readonly commitTime: bigint; readonly xid: number }
  | { readonly _tag: "Commit"; readonly commitLsn: bigint; readonly endLsn: bigint; readonly commitTime: bigint }
  | { readonly _tag: "Origin"; readonly originLsn: bigint; readonly name: string }
  | {
      readonly _tag: "Relation"
      readonly relationId: number
      readonly schema: string
      readonly table: string
      /** d default, n nothing, f full, i index */
      readonly replicaIdentity: string
      readonly columns: ReadonlyArray<RelationColumn>
    }
  | { readonly _tag: "Type"; readonly typeOid: number; readonly schema: string; readonly name: string }
  | { readonly _tag: "Insert"; readonly relationId: number; readonly newTuple: ReadonlyArray<TupleValue> }
  | {
      readonly _tag: "Update"
      readonly relationId: number
      /** Present when the key changed (K: key columns only) or with REPLICA IDENTITY FULL (O). */
      readonly oldTuple?: ReadonlyArray<TupleValue> | undefined
      readonly oldKind?: "key" | "full" | undefined
      readonly newTuple: ReadonlyArray<TupleValue>
    }
  | {
      readonly _tag: "Delete"
      readonly relationId: number
      readonly oldTuple: ReadonlyArray<TupleValue>
      readonly oldKind: "key" | "full"
    }
  | {
      readonly _tag: "Truncate"
      readonly relationIds: ReadonlyArray<number>
      readonly cascade: boolean
      readonly restartIdentity: boolean
    }
  | { readonly _tag: "Message"; readonly prefix: string }

export class ProtocolError extends Error {
  override readonly name = "ProtocolError"
}

/** A cursor over one message's bytes. */
class Reader {
  offset = 0
  constructor(readonly buffer: Buffer) {}
  private need(bytes: number) {
    if (this.offset + bytes > this.buffer.length) {
      throw new ProtocolError(`message truncated: need ${bytes} bytes at ${this.offset} of ${this.buffer.length}`)
    }
  }
  byte(): number {
    this.need(1)
    return this.buffer[this.offset++]!
  }
  char(): string {
    return String.fromCharCode(this.byte())
  }
  int16(): number {
    this.need(2)
    const v = this.buffer.readInt16BE(this.offset)
    this.offset += 2
    return v
  }
  int32(): number {
    this.need(4)
    const v = this.buffer.readInt32BE(this.offset)
    this.offset += 4
    return v
  }
  uint32(): number {
    this.need(4)
    const v = this.buffer.readUInt32BE(this.offset)
    this.offset += 4
    return v
  }
  int64(): bigint {
    this.need(8)
    const v = this.buffer.readBigInt64BE(this.offset)
    this.offset += 8
    return v
  }
  uint64(): bigint {
    this.need(8)
    const v = this.buffer.readBigUInt64BE(this.offset)
    this.offset += 8
    return v
  }
  /** A NUL-terminated string. */
  cstring(): string {
    const end = this.buffer.indexOf(0, this.offset)
    if (end < 0) throw new ProtocolError("unterminated string")
    const s = this.buffer.toString("utf8", this.offset, end)
    this.offset = end + 1
    return s
  }
  bytes(length: number): Buffer {
    this.need(length)
    const b = this.buffer.subarray(this.offset, this.offset + length)
    this.offset += length
    return b
  }
  rest(): Buffer {
    const b = this.buffer.subarray(this.offset)
    this.offset = this.buffer.length
    return b
  }
}

/** Decodes a CopyData payload the server sends while streaming. */
export const decodeServerMessage = (payload: Buffer): ServerMessage => {
  const r = new Reader(payload)
  const kind = r.char()
  switch (kind) {
    case "w": {
      const walStart = r.uint64()
      const walEnd = r.uint64()
      r.int64() // send time
      return { _tag: "XLogData", walStart, walEnd, data: r.rest() }
    }
    case "k": {
      const walEnd = r.uint64()
      r.int64() // send time
      return { _tag: "Keepalive", walEnd, replyRequested: r.byte() === 1 }
    }
    default:
      throw new ProtocolError(`unknown replication message '${kind}'`)
  }
}

/**
 * A Standby Status Update: written, flushed and applied positions are all `lsn`: for us an
 * entry is "applied" once Redis acknowledged it. The server confirms the slot up to `lsn`.
 */
export const encodeStatusUpdate = (lsn: bigint, clientTime: bigint, replyRequested = false): Buffer => {
  const b = Buffer.alloc(34)
  b.write("r", 0, "latin1")
  b.writeBigUInt64BE(lsn, 1)
  b.writeBigUInt64BE(lsn, 9)
  b.writeBigUInt64BE(lsn, 17)
  b.writeBigInt64BE(clientTime, 25)
  b.writeUInt8(replyRequested ? 1 : 0, 33)
  return b
}

const tuple = (r: Reader): Array<TupleValue> => {
  const count = r.int16()
  const values: Array<TupleValue> = new Array(count)
  for (let i = 0; i < count; i++) {
    const kind = r.char()
    switch (kind) {
      case "n":
        values[i] = null
        break
      case "u":
        values[i] = Unchanged
        break
      case "t":
        values[i] = r.bytes(r.int32()).toString("utf8")
        break
      default:
        // 'b' (binary) only comes with the `binary` option, which we never ask for.
        throw new ProtocolError(`unsupported tuple value kind '${kind}'`)
    }
  }
  return values
}

const oldKindOf = (marker: string): "key" | "full" => {
  if (marker === "K") return "key"
  if (marker === "O") return "full"
  throw new ProtocolError(`expected K or O, got '${marker}'`)
}

/** Decodes one pgoutput message (the payload of an XLogData). */
export const decode = (data: Buffer): PgOutputMessage => {
  const r = new Reader(data)
  const kind = r.char()
  switch (kind) {
    case "B":
      return { _tag: "Begin", finalLsn: r.uint64(), commitTime: r.int64(), xid: r.uint32() }
    case "C": {
      r.byte() // flags, unused
      return { _tag: "Commit", commitLsn: r.uint64(), endLsn: r.uint64(), commitTime: r.int64() }
    }
    case "O":
      return { _tag: "Origin", originLsn: r.uint64(), name: r.cstring() }
    case "R": {
      const relationId = r.uint32()
      const schema = r.cstring()
      const table = r.cstring()
      const replicaIdentity = r.char()
      const count = r.int16()
      const columns: Array<RelationColumn> = []
      for (let i = 0; i < count; i++) {
        const flags = r.byte()
        columns.push({ isKey: (flags & 1) === 1, name: r.cstring(), typeOid: r.uint32(), typeMod: r.int32() })
      }
      return { _tag: "Relation", relationId, schema, table, replicaIdentity, columns }
    }
    case "Y":
      return { _tag: "Type", typeOid: r.uint32(), schema: r.cstring(), name: r.cstring() }
    case "I": {
      const relationId = r.uint32()
      const marker = r.char()
      if (marker !== "N") throw new ProtocolError(`insert: expected N, got '${marker}'`)
      return { _tag: "Insert", relationId, newTuple: tuple(r) }
    }
    case "U": {
      const relationId = r.uint32()
      let marker = r.char()
      let oldTuple: Array<TupleValue> | undefined
      let oldKind: "key" | "full" | undefined
      if (marker === "K" || marker === "O") {
        oldKind = oldKindOf(marker)
        oldTuple = tuple(r)
        marker = r.char()
      }
      if (marker !== "N") throw new ProtocolError(`update: expected N, got '${marker}'`)
      return { _tag: "Update", relationId, oldTuple, oldKind, newTuple: tuple(r) }
    }
    case "D": {
      const relationId = r.uint32()
      const oldKind = oldKindOf(r.char())
      return { _tag: "Delete", relationId, oldKind, oldTuple: tuple(r) }
    }
    case "T": {
      const count = r.uint32()
      const options = r.byte()
      const relationIds: Array<number> = []
      for (let i = 0; i < count; i++) relationIds.push(r.uint32())
      return { _tag: "Truncate", relationIds, cascade: (options & 1) === 1, restartIdentity: (options & 2) === 2 }
    }
    case "M": {
      r.byte() // flags
      r.uint64() // lsn
      return { _tag: "Message", prefix: r.cstring() }
    }
    default:
      throw new ProtocolError(`unknown pgoutput message '${kind}'`)
  }
}
