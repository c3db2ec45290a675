import { Cdc } from "@bank/contracts"
import { Envelope } from "@bank/platform"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { skipWritten } from "./StreamWriter.ts"
import type { Outgoing } from "./Translator.ts"

const spec = Cdc.partition("deposits", 0)
const position = { commitLsn: "1A/2B3C", seq: 4 }
const payloads: ReadonlyArray<Cdc.CdcMessage> = [
  {
    _tag: "RowChanged",
    schema: "deposits",
    table: "accounts",
    op: "update",
    key: { account_id: "9223372036854775807" },
    old: { account_id: "9223372036854775807", memo: null },
    new: { account_id: "9223372036854775807", memo: "Grüße 🏦" },
    unchanged: ["blob"],
    ...position,
    commitTime: "2025-06-15T10:00:00.123456Z",
    xid: 7
  },
  {
    _tag: "TransactionCommitted",
    ...position,
    commitTime: "2025-06-15T10:00:00.123456Z",
    xid: 7,
    changes: 4,
    total: 4
  },
  { _tag: "SnapshotStarted", ...position, startedAt: "2025-06-15T10:00:00.000Z" },
  {
    _tag: "SnapshotCompleted",
    ...position,
    rows: 3,
    tables: ["deposits.accounts"],
    completedAt: "2025-06-15T10:00:01.000Z"
  }
]

describe("Envelope.encoder on CDC messages", () => {
  it("writes exactly what Envelope.encode writes, so every reader decodes it", () => {
    const encode = Envelope.encoder(spec)
    for (const payload of payloads) {
      const envelope = Envelope.make(spec, { key: "42", payload })
      expect(encode(envelope)).toEqual(Effect.runSync(Envelope.encode(spec, envelope)))
      const decoded = Effect.runSync(Envelope.decode(spec, "1-0", encode(envelope), 1))
      expect(decoded.payload).toEqual(payload)
    }
  })
})

describe("Envelope.plainJsonEncoder on CDC messages (what the writer uses)", () => {
  it("writes the same JSON as the schema's encoding, so every reader decodes the same message", () => {
    const plain = Envelope.plainJsonEncoder(spec)
    for (const payload of payloads) {
      const envelope = Envelope.make(spec, { key: "42", payload })
      const fast = plain(envelope)
      const viaSchema = Effect.runSync(Envelope.encode(spec, envelope))
      expect(fast.slice(0, -1)).toEqual(viaSchema.slice(0, -1))
      expect(JSON.parse(fast.at(-1)!)).toEqual(JSON.parse(viaSchema.at(-1)!))
      expect(Effect.runSync(Envelope.decode(spec, "1-0", fast, 1)).payload).toEqual(payload)
    }
  })
})

describe("skipWritten", () => {
  const at = (system: string, commitLsn: string, seq: number): Outgoing => ({
    system,
    partition: 0,
    key: "k",
    payload: { _tag: "TransactionCommitted", commitLsn, seq, commitTime: "", xid: 1, changes: 1, total: seq }
  })
  it("drops, per stream, what the stream already holds after a restart", () => {
    const skip = skipWritten(new Map([["cdc.deposits.p0", { commitLsn: "0/200", seq: 1 }]]))
    const batch = [
      at("deposits", "0/100", 5),
      at("deposits", "0/200", 0),
      at("cards", "0/200", 0),
      at("deposits", "0/200", 1),
      at("deposits", "0/200", 2)
    ]
    expect(skip(batch).map((e) => [e.system, e.payload.seq])).toEqual([
      ["cards", 0],
      ["deposits", 2]
    ])
    // Past the stream's last position, nothing more is dropped.
    expect(skip([at("deposits", "0/200", 3)])).toHaveLength(1)
  })
})
