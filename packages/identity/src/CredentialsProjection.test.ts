import type { Cdc } from "@bank/contracts"
import { describe, expect, it } from "vitest"
import { parsePgArray, pgTimestampToMs } from "./Credentials.ts"
import { changeOf, positionArgs } from "./CredentialsProjection.ts"

const row = (
  table: string,
  op: Cdc.RowChanged["op"],
  values: Cdc.Row,
  extra: Partial<Cdc.RowChanged> = {}
): Cdc.RowChanged => ({
  _tag: "RowChanged",
  schema: "customer",
  table,
  op,
  key: { customer_id: "7" },
  ...(op === "delete" ? { old: values } : { new: values }),
  commitLsn: "0/16B3748",
  seq: 0,
  commitTime: "2025-06-15T10:00:00.000000Z",
  xid: 1,
  ...extra
})

describe("CredentialsProjection.changeOf", () => {
  it("given a credentials row, when it is inserted, then the login fields are set", () => {
    const hash = "scrypt$N=1024,r=8,p=1$c2FsdA==$aGFzaA=="
    expect(
      changeOf(
        row("credentials", "insert", {
          customer_id: "7",
          username: "demo7",
          password_hash: hash,
          status: "active",
          locked_until: null
        })
      )
    ).toEqual({
      mode: "set",
      fields: ["username", "demo7", "passwordHash", hash, "status", "active", "lockedUntil", ""]
    })
  })

  it("keeps a value PostgreSQL did not resend (unchanged TOAST column)", () => {
    const change = changeOf(
      row("credentials", "update", { customer_id: "7", status: "locked" }, { unchanged: ["password_hash"] })
    )
    expect(change).toEqual({ mode: "set", fields: ["status", "locked"] })
  })

  it("ends the login when the credentials row is deleted, and forgets a deleted customer", () => {
    expect(changeOf(row("credentials", "delete", { customer_id: "7" }))).toEqual({ mode: "clear-login" })
    expect(changeOf(row("customers", "delete", { customer_id: "7" }))).toEqual({ mode: "forget" })
  })

  it("takes the roles from the customer row, and ignores other tables and schemas", () => {
    expect(changeOf(row("customers", "snapshot", { customer_id: "7", roles: "{customer,premium}" }))).toEqual({
      mode: "set",
      fields: ["roles", "customer,premium"]
    })
    expect(changeOf(row("addresses", "insert", { customer_id: "7" }))).toBeUndefined()
    expect(changeOf({ ...row("credentials", "insert", {}), schema: "crm" })).toBeUndefined()
    expect(changeOf(row("credentials", "truncate", {}))).toBeUndefined()
  })
})

describe("CDC positions and PostgreSQL text", () => {
  it("splits the LSN into the numbers the Lua step compares", () => {
    expect(positionArgs({ commitLsn: "16/B374D848", seq: 3 })).toEqual(["22", String(0xb374d848), "3"])
    expect(positionArgs({ commitLsn: "FFFFFFFF/FFFFFFFF", seq: 0 })).toEqual(["4294967295", "4294967295", "0"])
  })

  it("reads text[] and timestamptz as PostgreSQL prints them", () => {
    expect(parsePgArray("{customer,premium}")).toEqual(["customer", "premium"])
    expect(parsePgArray("{}")).toEqual([])
    expect(parsePgArray('{"a b",c}')).toEqual(["a b", "c"])
    expect(pgTimestampToMs("2025-06-15 10:00:00.123456+00")).toBe(Date.parse("2025-06-15T10:00:00.123Z"))
    expect(pgTimestampToMs("2025-06-15 12:00:00+02")).toBe(Date.parse("2025-06-15T10:00:00Z"))
  })
})
