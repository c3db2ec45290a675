// The dashboard's projection rules, given CDC entries as the connector writes them, when they
// are assembled and applied, then this document. Pure: no Redis (DashboardProjector.int.test.ts
// runs the same rules against a real one).
import type { Cdc } from "@bank/contracts"
import { describe, expect, it } from "vitest"
import * as Dashboard from "./Dashboard.ts"
import { card, depositAccount, depositEntry, snapshot, transaction } from "./testing/CdcMessages.ts"
import * as TransactionAssembler from "./TransactionAssembler.ts"

const entries = (messages: ReadonlyArray<Cdc.CdcMessage>, from = 0) =>
  messages.map((payload, i) => ({ entryId: `1-${from + i}`, payload }))

/** Feeds messages of one stream and applies what completes to `doc` (for customer 7). */
const project = (
  system: Dashboard.System,
  messages: ReadonlyArray<Cdc.CdcMessage>,
  doc?: Dashboard.DashboardDocument,
  latest?: number
) => {
  const { units } = TransactionAssembler.make().feed(entries(messages))
  const mine = units.filter((u) => u.customerId === "7").map((u) => u.unit)
  return Dashboard.applyUnits(doc, "7", system, mine, latest === undefined ? {} : { latest })
}

const deposit = (op: "insert" | "update", row: Cdc.Row) => ({ schema: "deposits", table: "accounts", op, row })
const entry = (row: Cdc.Row) => ({ schema: "deposits", table: "transactions", op: "insert" as const, row })

describe("dashboard projection", () => {
  it("shows every account with exact money in the API's form and totals per currency", () => {
    const big = "123456789012345678901234567890"
    const given = project("deposits", [
      ...transaction(0x10, 1, [
        deposit("insert", depositAccount("7", "1", big)),
        deposit("insert", depositAccount("7", "2", "-500", "USD"))
      ])
    ])
    const then = project(
      "cards",
      transaction(0x11, 2, [{ schema: "cards", table: "cards", op: "insert", row: card("7", "9", "2500") }]),
      given.document
    )
    const bigText = "1234567890123456789012345678.90"
    expect(then.document.accounts.map((a) => [a.id, a.type, a.balance])).toEqual([
      ["deposits:1", "current", { amount: bigText, currency: "EUR" }],
      ["deposits:2", "current", { amount: "-5.00", currency: "USD" }],
      ["cards:9", "credit_card", { amount: "25.00", currency: "EUR" }]
    ])
    expect(then.document.accounts[2]).toMatchObject({
      creditLimit: { amount: "5000.00", currency: "EUR" },
      availableCredit: { amount: "4975.00", currency: "EUR" },
      panLast4: "4242"
    })
    const eur = (amount: string) => ({ amount, currency: "EUR" })
    const usd = (amount: string) => ({ amount, currency: "USD" })
    expect(then.document.totals).toEqual([
      { currency: "EUR", assets: eur(bigText), liabilities: eur("25.00"), net: eur("1234567890123456789012345653.90") },
      { currency: "USD", assets: usd("-5.00"), liabilities: usd("0.00"), net: usd("-5.00") }
    ])
    expect(then.document.revision).toBe("000000000002")
    expect(then.document.asOf).toBe("2025-06-15T10:00:17.000000Z")
    expect(Object.keys(then.document.sources)).toEqual(["deposits", "cards"])
  })

  it("holds a transaction's rows until its commit, then applies them as one unit", () => {
    const messages = transaction(0x20, 5, [
      entry(depositEntry("7", "1", "100", "-250", "9750", "2025-06-15 09:00:00.5+00")),
      deposit("update", depositAccount("7", "1", "9750"))
    ])
    const assembler = TransactionAssembler.make()
    const partial = assembler.feed(entries(messages.slice(0, 2)))
    expect(partial).toEqual({ units: [], ack: [], warnings: [] })
    expect(assembler.openRows).toBe(2)
    const done = assembler.feed(entries(messages.slice(2), 2))
    expect(done.units).toHaveLength(1)
    expect(done.units[0]!.unit.rows).toHaveLength(2)
    // Only now are the rows done with: they stayed pending in Redis until then.
    expect(done.ack).toEqual(["1-0", "1-1", "1-2"])
    const applied = Dashboard.applyUnits(
      undefined,
      "7",
      "deposits",
      done.units.map((u) => u.unit)
    )
    expect(applied.document.latestTransactions).toEqual([
      expect.objectContaining({
        id: "deposits:100",
        accountId: "deposits:1",
        amount: { amount: "-2.50", currency: "EUR" },
        runningBalance: { amount: "97.50", currency: "EUR" },
        bookedAt: "2025-06-15T09:00:00.500000Z"
      })
    ])
  })

  it("lets go of a transaction's rows once a later commit shows its own commit will never come", () => {
    const lost = transaction(0x25, 8, [deposit("insert", depositAccount("7", "1", "1"))]).slice(0, 1)
    const next = transaction(0x26, 9, [deposit("insert", depositAccount("7", "2", "2"))])
    const assembler = TransactionAssembler.make()
    const done = assembler.feed(entries([...lost, ...next]))
    expect(done.units.map((u) => u.unit.rows.map((r) => r.new?.account_id))).toEqual([["2"]])
    expect(done.ack).toEqual(["1-0", "1-1", "1-2"])
    expect(done.warnings).toEqual([expect.stringContaining("transaction 8 had no commit entry")])
    expect(assembler.openRows).toBe(0)
  })

  it("changes nothing when a change comes again, or an older one after a newer one", () => {
    const older = transaction(0x30, 1, [deposit("insert", depositAccount("7", "1", "100"))])
    const newer = transaction(0x31, 2, [deposit("update", depositAccount("7", "1", "40"))])
    const first = project("deposits", [...older, ...newer])
    for (const again of [newer, older, [...older, ...newer]]) {
      const replay = project("deposits", again, first.document)
      expect(replay.applied).toBe(0)
      expect(replay.document).toEqual(first.document)
    }
    expect(first.document.accounts[0]!.balance).toEqual({ amount: "0.40", currency: "EUR" })
  })

  it("keeps the newest N transactions across accounts, newest first, whatever order they arrive in", () => {
    const times = [5, 1, 9, 3, 7, 2, 8, 6, 4]
    const rows = times.map((t, i) =>
      entry(depositEntry("7", String(1 + (i % 2)), String(100 + i), "-1", "0", `2025-06-15 10:00:0${t}+00`))
    )
    const { document } = project(
      "deposits",
      rows.map((row, i) => transaction(0x40 + i, 10 + i, [row])).flat(),
      undefined,
      4
    )
    expect(document.latestTransactions.map((t) => t.bookedAt)).toEqual(
      [9, 8, 7, 6].map((t) => `2025-06-15T10:00:0${t}.000000Z`)
    )
  })

  it("rebuilds a stream's part from scratch when a newer snapshot starts, keeping the others", () => {
    const streamed = project(
      "deposits",
      transaction(0x50, 1, [
        deposit("insert", depositAccount("7", "1", "10")),
        deposit("insert", depositAccount("7", "2", "20"))
      ])
    )
    const withCard = project(
      "cards",
      transaction(0x51, 2, [{ schema: "cards", table: "cards", op: "insert", row: card("7", "9", "0") }]),
      streamed.document
    )
    const resnapshot = project(
      "deposits",
      snapshot(0x60, [{ schema: "deposits", table: "accounts", row: depositAccount("7", "2", "25") }]),
      withCard.document
    )
    expect(resnapshot.document.accounts.map((a) => `${a.id}=${(a.balance as { amount: string }).amount}`)).toEqual([
      "deposits:2=0.25",
      "cards:9=0.00"
    ])
    // Replaying the same snapshot does not reset what it built.
    expect(
      project(
        "deposits",
        snapshot(0x60, [{ schema: "deposits", table: "accounts", row: depositAccount("7", "2", "25") }]),
        resnapshot.document
      ).applied
    ).toBe(0)
  })

  it("moves an account to its new customer when its customer_id changes", () => {
    const moved = transaction(0x70, 3, [
      { ...deposit("update", depositAccount("8", "1", "5")), old: depositAccount("7", "1", "5") }
    ])
    const { units } = TransactionAssembler.make().feed(entries(moved))
    expect(units.map((u) => [u.customerId, u.unit.rows[0]!.op])).toEqual([
      ["7", "delete"],
      ["8", "update"]
    ])
    const before = project("deposits", transaction(0x6f, 2, [deposit("insert", depositAccount("7", "1", "5"))]))
    expect(project("deposits", moved, before.document).document.accounts).toEqual([])
  })
})
