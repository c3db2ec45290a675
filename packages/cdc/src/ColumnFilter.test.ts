// The column filter: a secret column never reaches a general stream, its private stream gets
// the row whole with its own commit and snapshot markers.
import type { Cdc } from "@bank/contracts"
import { describe, expect, it } from "vitest"
import * as ColumnFilter from "./ColumnFilter.ts"
import type { Outgoing } from "./Translator.ts"

const hash = "scrypt$N=16384,r=8,p=1$c2FsdA==$aGFzaA=="
const row = (table: string, values: Cdc.Row, xid = 7, op: Cdc.RowChanged["op"] = "update", seq = 0): Outgoing => ({
  system: "customer",
  partition: 0,
  key: "42",
  payload: {
    _tag: "RowChanged",
    schema: "customer",
    table,
    op,
    key: { customer_id: "42" },
    new: values,
    old: values,
    commitLsn: "0/10",
    seq,
    commitTime: "t",
    xid
  }
})
const commit = (system: string, changes: number, xid = 7): Outgoing => ({
  system,
  partition: 0,
  key: "42",
  payload: { _tag: "TransactionCommitted", commitLsn: "0/10", seq: 2, commitTime: "t", xid, changes, total: 2 }
})

describe("ColumnFilter", () => {
  it("drops the password hash from cdc.customer and copies the row whole to cdc.identity, with its own commit", () => {
    const filter = ColumnFilter.make(ColumnFilter.defaults)
    const out = filter([
      row("credentials", { customer_id: "42", username: "ada", password_hash: hash, status: "active" }),
      row("customers", { customer_id: "42", email: "a@b.c", roles: "{customer}" }, 7, "update", 1),
      commit("customer", 2)
    ])
    const general = out.filter((e) => e.system === "customer")
    expect(JSON.stringify(general)).not.toContain("scrypt")
    expect(general.map((e) => e.payload._tag)).toEqual(["RowChanged", "RowChanged", "TransactionCommitted"])
    expect((general[0]!.payload as Cdc.RowChanged).new).toEqual({
      customer_id: "42",
      username: "ada",
      status: "active"
    })
    const identity = out.filter((e) => e.system === "identity")
    expect((identity[0]!.payload as Cdc.RowChanged).new).toEqual({
      customer_id: "42",
      username: "ada",
      password_hash: hash,
      status: "active"
    })
    expect((identity[1]!.payload as Cdc.RowChanged).new).toEqual({ customer_id: "42", roles: "{customer}" })
    expect(identity[2]!.payload).toMatchObject({ _tag: "TransactionCommitted", changes: 2, xid: 7 })
  })

  it("mirrors snapshot markers to the private stream with its own counts", () => {
    const filter = ColumnFilter.make(ColumnFilter.defaults)
    const started: Outgoing = {
      system: "customer",
      partition: 0,
      key: "s",
      payload: { _tag: "SnapshotStarted", commitLsn: "0/10", seq: 0, startedAt: "t" }
    }
    const completed = (system: string): Outgoing => ({
      system,
      partition: 0,
      key: "s",
      payload: {
        _tag: "SnapshotCompleted",
        commitLsn: "0/10",
        seq: 3,
        rows: 2,
        tables: ["customer.credentials"],
        completedAt: "t"
      }
    })
    const out = [
      ...filter([started, { ...started, system: "crm" }]),
      ...filter([row("credentials", { customer_id: "42", password_hash: hash }, 0, "snapshot", 1)]),
      ...filter([completed("customer"), completed("crm")])
    ]
    expect(out.filter((e) => e.system === "identity").map((e) => e.payload)).toEqual([
      started.payload,
      expect.objectContaining({ _tag: "RowChanged", op: "snapshot" }),
      expect.objectContaining({ _tag: "SnapshotCompleted", rows: 1, tables: ["customer.credentials"] })
    ])
  })

  it("reads rules from JSON and refuses malformed ones", () => {
    expect(ColumnFilter.parse('{"crm.notes":{"include":["customer_id","text"]}}')).toEqual({
      "crm.notes": { include: ["customer_id", "text"] }
    })
    expect(() => ColumnFilter.parse('{"notes":{}}')).toThrow()
    expect(() => ColumnFilter.parse('{"crm.notes":{"exclude":"text"}}')).toThrow()
  })

  it("keeps an entry's trace context on the private copies and their commit", () => {
    const filter = ColumnFilter.make(ColumnFilter.defaults)
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    const out = filter([
      { ...row("credentials", { customer_id: "42", username: "ada", password_hash: hash }), traceparent },
      { ...commit("customer", 1), traceparent }
    ])
    expect(out.map((e) => [e.system, e.payload._tag, e.traceparent])).toEqual([
      ["customer", "RowChanged", traceparent],
      ["identity", "RowChanged", traceparent],
      ["customer", "TransactionCommitted", traceparent],
      ["identity", "TransactionCommitted", traceparent]
    ])
  })
})
