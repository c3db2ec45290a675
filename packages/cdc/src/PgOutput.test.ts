import { describe, expect, it } from "vitest"
import * as PgOutput from "./PgOutput.ts"

// Builds messages the way PostgreSQL lays them out (big-endian, NUL-terminated strings).
const bytes = (...parts: Array<Buffer | string | [number, "i8" | "i16" | "i32" | "i64"]>) =>
  Buffer.concat(
    parts.map((p) => {
      if (typeof p === "string") return Buffer.from(p, "utf8")
      if (Buffer.isBuffer(p)) return p
      const [value, type] = p
      const b = Buffer.alloc(type === "i8" ? 1 : type === "i16" ? 2 : type === "i32" ? 4 : 8)
      if (type === "i8") b.writeUInt8(value)
      else if (type === "i16") b.writeInt16BE(value)
      else if (type === "i32") b.writeUInt32BE(value)
      else b.writeBigUInt64BE(BigInt(value))
      return b
    })
  )
const cstr = (s: string) => Buffer.concat([Buffer.from(s, "utf8"), Buffer.from([0])])
const text = (s: string) => bytes("t", [Buffer.byteLength(s), "i32"], s)
const tupleOf = (...values: Array<Buffer>) => bytes([values.length, "i16"], ...values)

describe("decodeServerMessage", () => {
  it("reads XLogData with its WAL positions and payload", () => {
    const m = PgOutput.decodeServerMessage(
      bytes("w", [0x1_0000_0010, "i64"], [0x1_0000_0020, "i64"], [0, "i64"], "B...")
    )
    expect(m).toEqual({ _tag: "XLogData", walStart: 0x1_0000_0010n, walEnd: 0x1_0000_0020n, data: Buffer.from("B...") })
  })

  it("reads a keepalive and whether it wants a reply", () => {
    expect(PgOutput.decodeServerMessage(bytes("k", [77, "i64"], [0, "i64"], [1, "i8"]))).toEqual({
      _tag: "Keepalive",
      walEnd: 77n,
      replyRequested: true
    })
    expect(PgOutput.decodeServerMessage(bytes("k", [77, "i64"], [0, "i64"], [0, "i8"]))).toMatchObject({
      replyRequested: false
    })
  })

  it("refuses what it does not know instead of skipping it", () => {
    expect(() => PgOutput.decodeServerMessage(Buffer.from("x"))).toThrow(PgOutput.ProtocolError)
    expect(() => PgOutput.decodeServerMessage(bytes("k", [77, "i64"]))).toThrow(/truncated/)
  })
})

describe("encodeStatusUpdate", () => {
  it("reports the position as written, flushed and applied", () => {
    const b = PgOutput.encodeStatusUpdate(0xab_0000_0001n, 5n, true)
    expect(b.length).toBe(34)
    expect(b.toString("latin1", 0, 1)).toBe("r")
    expect([b.readBigUInt64BE(1), b.readBigUInt64BE(9), b.readBigUInt64BE(17)]).toEqual([
      0xab_0000_0001n,
      0xab_0000_0001n,
      0xab_0000_0001n
    ])
    expect(b.readBigInt64BE(25)).toBe(5n)
    expect(b[33]).toBe(1)
  })
})

describe("decode (pgoutput v1)", () => {
  it("Begin and Commit carry the commit LSN, time and xid", () => {
    expect(PgOutput.decode(bytes("B", [0x2_0000_0100, "i64"], [1_000_000, "i64"], [4_000_000_000, "i32"]))).toEqual({
      _tag: "Begin",
      finalLsn: 0x2_0000_0100n,
      commitTime: 1_000_000n,
      xid: 4_000_000_000
    })
    expect(PgOutput.decode(bytes("C", [0, "i8"], [0x100, "i64"], [0x130, "i64"], [9, "i64"]))).toEqual({
      _tag: "Commit",
      commitLsn: 0x100n,
      endLsn: 0x130n,
      commitTime: 9n
    })
  })

  it("Relation lists columns with their key flag and type", () => {
    const m = PgOutput.decode(
      bytes(
        "R",
        [16385, "i32"],
        cstr("deposits"),
        cstr("accounts"),
        "f",
        [2, "i16"],
        [1, "i8"],
        cstr("id"),
        [20, "i32"],
        [-1 >>> 0, "i32"],
        [0, "i8"],
        cstr("naïve"),
        [25, "i32"],
        [-1 >>> 0, "i32"]
      )
    )
    expect(m).toEqual({
      _tag: "Relation",
      relationId: 16385,
      schema: "deposits",
      table: "accounts",
      replicaIdentity: "f",
      columns: [
        { name: "id", isKey: true, typeOid: 20, typeMod: -1 },
        { name: "naïve", isKey: false, typeOid: 25, typeMod: -1 }
      ]
    })
  })

  it("tuples keep text exactly, NULL as null and unchanged TOAST as a marker", () => {
    const m = PgOutput.decode(
      bytes("I", [7, "i32"], "N", tupleOf(text("9223372036854775807"), bytes("n"), text("€ ünïcødé ✓"), bytes("u")))
    )
    expect(m).toEqual({
      _tag: "Insert",
      relationId: 7,
      newTuple: ["9223372036854775807", null, "€ ünïcødé ✓", PgOutput.Unchanged]
    })
  })

  it("Update with and without the old row, Delete with key or full row", () => {
    expect(PgOutput.decode(bytes("U", [7, "i32"], "N", tupleOf(text("1"))))).toEqual({
      _tag: "Update",
      relationId: 7,
      oldTuple: undefined,
      oldKind: undefined,
      newTuple: ["1"]
    })
    expect(PgOutput.decode(bytes("U", [7, "i32"], "O", tupleOf(text("0")), "N", tupleOf(text("1"))))).toEqual({
      _tag: "Update",
      relationId: 7,
      oldTuple: ["0"],
      oldKind: "full",
      newTuple: ["1"]
    })
    expect(PgOutput.decode(bytes("U", [7, "i32"], "K", tupleOf(text("0")), "N", tupleOf(text("1"))))).toMatchObject({
      oldKind: "key"
    })
    expect(PgOutput.decode(bytes("D", [7, "i32"], "K", tupleOf(text("5"), bytes("n"))))).toEqual({
      _tag: "Delete",
      relationId: 7,
      oldKind: "key",
      oldTuple: ["5", null]
    })
  })

  it("Truncate names every relation and its options", () => {
    expect(PgOutput.decode(bytes("T", [2, "i32"], [3, "i8"], [7, "i32"], [8, "i32"]))).toEqual({
      _tag: "Truncate",
      relationIds: [7, 8],
      cascade: true,
      restartIdentity: true
    })
  })

  it("Type and Origin are understood", () => {
    expect(PgOutput.decode(bytes("Y", [900, "i32"], cstr("public"), cstr("mood")))).toEqual({
      _tag: "Type",
      typeOid: 900,
      schema: "public",
      name: "mood"
    })
    expect(PgOutput.decode(bytes("O", [0x50, "i64"], cstr("upstream")))).toEqual({
      _tag: "Origin",
      originLsn: 0x50n,
      name: "upstream"
    })
  })

  it("binary tuple values and unknown messages are errors", () => {
    expect(() => PgOutput.decode(bytes("I", [7, "i32"], "N", tupleOf(bytes("b", [1, "i32"], "x"))))).toThrow(
      /unsupported/
    )
    expect(() => PgOutput.decode(bytes("S", [1, "i32"]))).toThrow(/unknown pgoutput message/)
  })
})
