import { Cdc } from "@bank/contracts"
import { describe, expect, it } from "vitest"
import * as Lsn from "./Lsn.ts"
import { Unchanged } from "./PgOutput.ts"
import * as Translator from "./Translator.ts"

const accounts: Translator.Relation = {
  schema: "deposits",
  table: "accounts",
  columns: ["account_id", "customer_id", "balance", "memo"],
  primaryKey: ["account_id"]
}
const cards: Translator.Relation = {
  schema: "cards",
  table: "cards",
  columns: ["card_id", "customer_id", "balance"],
  primaryKey: ["card_id"]
}
const instruments: Translator.Relation = {
  schema: "investments",
  table: "instruments",
  columns: ["isin", "name"],
  primaryKey: ["isin"]
}

const given = () => {
  const t = Translator.make(1)
  t.defineRelation(1, accounts)
  t.defineRelation(2, cards)
  t.defineRelation(3, instruments)
  return t
}
const begin = { _tag: "Begin", finalLsn: 0x1_0000_0200n, commitTime: 0n, xid: 901 } as const
const commit = { _tag: "Commit", commitLsn: 0x1_0000_0200n, endLsn: 0x1_0000_0230n, commitTime: 0n } as const
const rows = (step: Translator.Step) => step.entries.map((e) => e.payload as Cdc.RowChanged)

describe("Translator", () => {
  it("stamps each change with the transaction's commit LSN, time, xid and its index", () => {
    const t = given()
    expect(t.apply(begin).entries).toEqual([])
    expect(t.inTransaction).toBe(true)
    const first = t.apply({ _tag: "Insert", relationId: 1, newTuple: ["10", "42", "-12345678901234567", null] })
    const second = t.apply({ _tag: "Insert", relationId: 2, newTuple: ["20", "42", "0"] })
    expect(first.entries[0]).toEqual({
      system: "deposits",
      partition: 0,
      key: "42",
      payload: {
        _tag: "RowChanged",
        schema: "deposits",
        table: "accounts",
        op: "insert",
        key: { account_id: "10" },
        new: { account_id: "10", customer_id: "42", balance: "-12345678901234567", memo: null },
        commitLsn: "1/200",
        seq: 0,
        commitTime: "2000-01-01T00:00:00.000000Z",
        xid: 901
      }
    })
    expect(rows(second)[0]).toMatchObject({ commitLsn: "1/200", seq: 1, xid: 901 })
  })

  it("closes the transaction on every stream it touched, after its changes, with counts", () => {
    const t = given()
    t.apply(begin)
    t.apply({ _tag: "Insert", relationId: 1, newTuple: ["10", "42", "1", null] })
    t.apply({ _tag: "Insert", relationId: 1, newTuple: ["11", "42", "2", null] })
    t.apply({ _tag: "Insert", relationId: 3, newTuple: ["US0378331005", "Apple"] })
    const done = t.apply(commit)
    expect(done.committedEndLsn).toBe(0x1_0000_0230n)
    expect(t.inTransaction).toBe(false)
    expect(done.entries).toEqual([
      {
        system: "deposits",
        partition: 0,
        key: "42", // all its deposits changes belong to customer 42: same ordering key
        payload: {
          _tag: "TransactionCommitted",
          commitLsn: "1/200",
          seq: 3,
          commitTime: "2000-01-01T00:00:00.000000Z",
          xid: 901,
          changes: 2,
          total: 3
        }
      },
      {
        system: "investments",
        partition: 0,
        key: "investments.instruments:US0378331005",
        payload: {
          _tag: "TransactionCommitted",
          commitLsn: "1/200",
          seq: 3,
          commitTime: "2000-01-01T00:00:00.000000Z",
          xid: 901,
          changes: 1,
          total: 3
        }
      }
    ])
  })

  it("keys a transaction of several customers by its xid", () => {
    const t = given()
    t.apply(begin)
    t.apply({ _tag: "Insert", relationId: 1, newTuple: ["10", "42", "1", null] })
    t.apply({ _tag: "Insert", relationId: 1, newTuple: ["11", "43", "1", null] })
    expect(t.apply(commit).entries[0]!.key).toBe("xid:901")
  })

  it("fills unchanged TOAST values from the full old row, and names those it cannot", () => {
    const t = given()
    t.apply(begin)
    const full = rows(
      t.apply({
        _tag: "Update",
        relationId: 1,
        oldKind: "full",
        oldTuple: ["10", "42", "1", "long memo"],
        newTuple: ["10", "42", "2", Unchanged]
      })
    )[0]!
    expect(full.new).toEqual({ account_id: "10", customer_id: "42", balance: "2", memo: "long memo" })
    expect(full.old).toEqual({ account_id: "10", customer_id: "42", balance: "1", memo: "long memo" })
    expect(full.unchanged).toBeUndefined()
    const keyOnly = rows(t.apply({ _tag: "Update", relationId: 1, newTuple: ["10", "42", "3", Unchanged] }))[0]!
    expect(keyOnly.new).toEqual({ account_id: "10", customer_id: "42", balance: "3" })
    expect(keyOnly.unchanged).toEqual(["memo"])
    expect(keyOnly.old).toBeUndefined()
  })

  it("a delete with a key-only identity carries only the key", () => {
    const t = given()
    t.apply(begin)
    const [deleted] = t.apply({ _tag: "Delete", relationId: 2, oldKind: "key", oldTuple: ["20", null, null] }).entries
    expect(deleted!.payload).toMatchObject({ op: "delete", key: { card_id: "20" }, old: { card_id: "20" } })
    expect(deleted!.key).toBe("cards.cards:20")
  })

  it("a truncate becomes one entry per table", () => {
    const t = given()
    t.apply(begin)
    const step = t.apply({ _tag: "Truncate", relationIds: [1, 2], cascade: false, restartIdentity: false })
    expect(
      step.entries.map((e) => [e.system, e.key, (e.payload as Cdc.RowChanged).op, (e.payload as Cdc.RowChanged).seq])
    ).toEqual([
      ["deposits", "deposits.accounts", "truncate", 0],
      ["cards", "cards.cards", "truncate", 1]
    ])
  })

  it("a new column arrives as a new Relation and shows in later rows", () => {
    const t = given()
    t.defineRelation(1, { ...accounts, columns: [...accounts.columns, "nickname"] })
    t.apply(begin)
    expect(
      rows(t.apply({ _tag: "Insert", relationId: 1, newTuple: ["12", "42", "0", null, "Holiday"] }))[0]!.new
    ).toEqual({ account_id: "12", customer_id: "42", balance: "0", memo: null, nickname: "Holiday" })
  })

  it("refuses changes for unknown relations or outside a transaction", () => {
    const t = given()
    expect(() => t.apply({ _tag: "Insert", relationId: 1, newTuple: [] })).toThrow(/outside a transaction/)
    t.apply(begin)
    expect(() => t.apply({ _tag: "Insert", relationId: 99, newTuple: [] })).toThrow(/relation 99/)
  })
})

describe("Lsn", () => {
  it("formats like PostgreSQL and converts wire timestamps with microseconds", () => {
    expect(Lsn.format(0x16_b374_d848n)).toBe("16/B374D848")
    expect(Lsn.parse("16/B374D848")).toBe(0x16_b374_d848n)
    expect(Lsn.timestampToIso(802_008_000_123_456n)).toBe("2025-05-31T12:00:00.123456Z")
  })

  it("sends each customer's changes to the partition of its customer id, and closes the transaction on every partition it touched", () => {
    const t = Translator.make(4)
    t.defineRelation(1, accounts)
    const customers = ["1", "2", "3", "4", "5", "6", "7", "8"]
    t.apply(begin)
    const changes = customers.map(
      (c, i) => t.apply({ _tag: "Insert", relationId: 1, newTuple: [String(10 + i), c, "1", null] }).entries[0]!
    )
    for (const change of changes) expect(change.partition).toBe(Cdc.partitionOf(change.key, 4))
    const touched = [...new Set(changes.map((c) => c.partition))].sort()
    expect(touched.length).toBeGreaterThan(1)
    const done = t.apply(commit).entries
    expect(done.map((e) => e.partition).sort()).toEqual(touched)
    for (const e of done) {
      expect(e.payload).toMatchObject({
        _tag: "TransactionCommitted",
        total: 8,
        changes: changes.filter((c) => c.partition === e.partition).length
      })
    }
  })

  it("takes a row's traceparent column as the transaction's trace, never as data, from its first new row on", () => {
    const ledger: Translator.Relation = {
      schema: "deposits",
      table: "transactions",
      columns: ["account_id", "entry_no", "customer_id", "traceparent"],
      primaryKey: ["account_id", "entry_no"]
    }
    const t = Translator.make(1)
    t.defineRelation(1, accounts)
    t.defineRelation(4, ledger)
    const traced = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    t.apply(begin)
    const before = t.apply({ _tag: "Insert", relationId: 1, newTuple: ["10", "42", "1", null] }).entries[0]!
    const entry = t.apply({ _tag: "Insert", relationId: 4, newTuple: ["10", "1", "42", traced] }).entries[0]!
    const after = t.apply({
      _tag: "Update",
      relationId: 4,
      oldKind: "full",
      // An old tuple's trace is an earlier writer's: not this transaction's.
      oldTuple: ["10", "1", "42", "00-11111111111111111111111111111111-2222222222222222-01"],
      newTuple: ["10", "1", "42", Unchanged]
    }).entries[0]!
    const done = t.apply(commit).entries
    expect(before.traceparent).toBeUndefined()
    expect(entry.traceparent).toBe(traced)
    expect(after.traceparent).toBe(traced)
    expect(done[0]!.traceparent).toBe(traced)
    for (const e of [entry, after]) {
      const payload = e.payload as Cdc.RowChanged
      expect(payload.new).toEqual({ account_id: "10", entry_no: "1", customer_id: "42" })
      expect(payload.old ?? {}).not.toHaveProperty("traceparent")
      expect(payload.unchanged ?? []).not.toContain("traceparent")
    }
    // The next transaction starts with no trace.
    t.apply(begin)
    expect(
      t.apply({ _tag: "Insert", relationId: 4, newTuple: ["10", "2", "42", null] }).entries[0]!.traceparent
    ).toBeUndefined()
  })
})
