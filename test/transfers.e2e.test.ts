// Transfers end to end: POST /v1/transfers over real HTTP with a token from identity's login,
// the command on `payments.commands`, the payments actor booking in a private PostgreSQL, the
// status document in a private Redis, and the booked entries leaving through CDC.
import { Cdc, Payments } from "@bank/contracts"
import { Envelope, Keys } from "@bank/platform"
import { TransferBooking, TransferRequest } from "@bank/payments"
import { Ledgers } from "@bank/records"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { describe, expect, it, vi } from "vitest"
import { useStack } from "./support/bankStack.ts"
import { accounts, PASSWORD, seed } from "./support/twoCustomers.ts"

const stack = useStack({ seed, waitForUser: "bob" })

const balanceOf = async (accountId: number) =>
  (
    await stack.db.query("SELECT balance::text, available_balance::text FROM deposits.accounts WHERE account_id = $1", [
      accountId
    ])
  ).rows[0] as { balance: string; available_balance: string }
const transfersFor = async (key: string) =>
  (
    await stack.db.query(
      "SELECT transfer_id::text, status, reason FROM payments.transfers WHERE idempotency_key = $1",
      [key]
    )
  ).rows
const entriesOf = async (accountId: number) =>
  (
    await stack.db.query(
      "SELECT entry_no::text, amount::text, category, counterparty FROM deposits.transactions WHERE account_id = $1 ORDER BY entry_no",
      [accountId]
    )
  ).rows
const ledgersConsistent = async () => expect(await stack.runtime.runPromise(Ledgers.check())).toEqual([])

/** Sends a transfer with `key` (a new one by default; null: without the header). */
const transfer = (token: string, body: Record<string, unknown>, key: string | null = randomUUID()) =>
  stack.call("POST", "/v1/transfers", { token, body, headers: key === null ? {} : { "Idempotency-Key": key } })

/** Waits until the transfer is decided; its status as GET shows it. */
const decided = async (token: string, transferId: string) => {
  let body: any
  await vi.waitFor(
    async () => {
      const answer = await stack.call("GET", `/v1/transfers/${transferId}`, { token })
      expect(answer.status).toBe(200)
      body = answer.body
      expect(body.status).not.toBe("pending")
    },
    { timeout: 20_000, interval: 50 }
  )
  return body
}

describe("transfers", () => {
  it("books a transfer once for one idempotency key, however often and however concurrently it is sent", async () => {
    const { token } = await stack.login("alice", PASSWORD)
    const key = randomUUID()
    const body = {
      fromAccountId: "deposits:101",
      toAccountId: "deposits:201",
      amount: { amount: "12.50", currency: "EUR" },
      reference: "Dinner"
    }
    const concurrent = await Promise.all(Array.from({ length: 12 }, () => transfer(token, body, key)))
    const ids = new Set(concurrent.map((a) => a.body.transferId))
    expect(concurrent.map((a) => a.status)).toEqual(Array(12).fill(202))
    expect(ids.size).toBe(1)
    const [transferId] = ids
    expect(transferId).toBe(TransferRequest.transferId("1", key))
    expect(concurrent[0]!.headers.get("location")).toBe(`/v1/transfers/${transferId}`)

    const status = await decided(token, transferId!)
    expect(status).toMatchObject({
      transferId,
      status: "booked",
      amount: { amount: "12.50", currency: "EUR" },
      fromAccountId: "deposits:101",
      toAccountId: "deposits:201",
      reference: "Dinner",
      debitEntryNo: 2
    })
    // Sent again after it was booked: the same transfer, its status, nothing new.
    for (let i = 0; i < 3; i++) {
      const again = await transfer(token, { ...body, amount: { amount: "12.5", currency: "EUR" } }, key)
      expect(again.status).toBe(202)
      expect(again.body).toMatchObject({ transferId, status: "booked" })
    }

    expect(await transfersFor(key)).toEqual([{ transfer_id: transferId, status: "booked", reason: null }])
    expect(await balanceOf(101)).toEqual({ balance: "98750", available_balance: "98750" })
    expect(await balanceOf(201)).toEqual({ balance: "2250", available_balance: "2250" })
    expect((await entriesOf(101)).slice(1)).toEqual([
      { entry_no: "2", amount: "-1250", category: "transfer_out", counterparty: "BE00000000000201" }
    ])
    expect((await entriesOf(201)).slice(1)).toEqual([
      { entry_no: "2", amount: "1250", category: "transfer_in", counterparty: "BE00000000000101" }
    ])
    await ledgersConsistent()
  })

  it("books nothing more when the command is delivered again, and heals a lost status document", async () => {
    const { token } = await stack.login("alice", PASSWORD)
    const key = randomUUID()
    const sent = await transfer(
      token,
      {
        fromAccountId: "deposits:102",
        toAccountId: "deposits:101",
        amount: { amount: "1.00", currency: "EUR" },
        reference: ""
      },
      key
    )
    const transferId = sent.body.transferId as string
    await decided(token, transferId)
    const before = { from: await balanceOf(102), to: await balanceOf(101), entries: (await entriesOf(101)).length }

    // The command exactly as the edge sent it, delivered five more times (as after a crash
    // between the commit and the acknowledgement), with the status document lost meanwhile.
    const stream = Keys.stream(Payments.commands.name)
    const entries = await stack.redis.xRange(stream, "-", "+")
    const original = entries.find((e) => e.message.data?.includes(transferId))!
    const statusKey = Keys.customer("1").document(`transfer:${transferId}`)
    await stack.redis.del(statusKey)
    for (let i = 0; i < 5; i++) await stack.redis.xAdd(stream, "*", original.message)
    await vi.waitFor(async () => expect(await stack.redis.exists(statusKey)).toBe(1), { timeout: 20_000, interval: 50 })
    await vi.waitFor(
      async () => {
        const [group] = (await stack.redis.xInfoGroups(stream)) as Array<{ lag: number | null; pending: number }>
        expect(group).toMatchObject({ lag: 0, pending: 0 })
      },
      { timeout: 20_000, interval: 50 }
    )

    expect(await transfersFor(key)).toHaveLength(1)
    expect({ from: await balanceOf(102), to: await balanceOf(101), entries: (await entriesOf(101)).length }).toEqual(
      before
    )
    expect((await stack.call("GET", `/v1/transfers/${transferId}`, { token })).body).toMatchObject({
      status: "booked",
      amount: { amount: "1.00", currency: "EUR" }
    })

    // Two consumers handling the same command at the same moment: the database decides once.
    const command = (
      await Effect.runPromise(
        Envelope.decode(Payments.commands, original.id, Object.entries(original.message).flat(), 1)
      )
    ).payload
    const fresh = { ...command, transferId: TransferRequest.transferId("1", "race"), idempotencyKey: "race" }
    const outcomes = await stack.runtime.runPromise(
      Effect.all(
        Array.from({ length: 6 }, () => TransferBooking.book(fresh)),
        { concurrency: "unbounded" }
      )
    )
    expect(outcomes.filter((o) => o.decidedNow)).toHaveLength(1)
    expect(new Set(outcomes.map((o) => o.transfer.transferId))).toEqual(new Set([fresh.transferId]))
    expect(await transfersFor("race")).toHaveLength(1)
    expect(await balanceOf(102)).toEqual({
      balance: String(Number(before.from.balance) - 100),
      available_balance: String(Number(before.from.available_balance) - 100)
    })
    await ledgersConsistent()
  })

  it("refuses the same key with a different body, a missing key and an inexact amount", async () => {
    const { token } = await stack.login("alice", PASSWORD)
    const key = randomUUID()
    const body = {
      fromAccountId: "deposits:101",
      toAccountId: "deposits:102",
      amount: { amount: "2.00", currency: "EUR" },
      reference: "first"
    }
    expect((await transfer(token, body, key)).status).toBe(202)
    const reused = await transfer(token, { ...body, amount: { amount: "3.00", currency: "EUR" } }, key)
    expect(reused.status).toBe(422)
    expect(reused.headers.get("content-type")).toBe("application/problem+json")
    expect(reused.body).toMatchObject({
      type: "/docs/problems/idempotency-key-reused",
      transferId: TransferRequest.transferId("1", key)
    })

    const missing = await transfer(token, body, null)
    expect(missing.status).toBe(400)
    expect(missing.body.type).toBe("/docs/problems/invalid-idempotency-key")

    const inexact = await transfer(token, { ...body, amount: { amount: "2.005", currency: "EUR" } })
    expect(inexact.status).toBe(400)
    expect(inexact.body.errors).toEqual([
      { path: "/amount/amount", message: "has more than 2 decimals (EUR has 2 decimals)" }
    ])
    // One account id everywhere: a bare number, or a card, is not an account to transfer between.
    for (const accounts of [{ fromAccountId: "101" }, { toAccountId: "cards:1" }]) {
      const refused = await transfer(token, { ...body, ...accounts })
      expect(refused.status).toBe(400)
      expect(refused.body.errors.map((e: { path: string }) => e.path)).toEqual(
        Object.keys(accounts).map((k) => `/${k}`)
      )
    }
    expect(
      (await stack.call("POST", "/v1/transfers", { body, headers: { "Idempotency-Key": randomUUID() } })).status
    ).toBe(401)
    await decided(token, TransferRequest.transferId("1", key))
    expect(await transfersFor(key)).toHaveLength(1)
  })

  it("rejects, with a clear reason and no booking, what the accounts do not allow", async () => {
    const { token } = await stack.login("alice", PASSWORD)
    const balances = async () => {
      const all = []
      for (const a of accounts) all.push(await balanceOf(a.id))
      return all
    }
    const before = await balances()
    const cases = [
      [
        { fromAccountId: "deposits:102", toAccountId: "deposits:101", amount: { amount: "5000.00", currency: "EUR" } },
        "InsufficientFunds"
      ],
      [
        { fromAccountId: "deposits:101", toAccountId: "deposits:103", amount: { amount: "1.00", currency: "EUR" } },
        "CurrencyMismatch"
      ],
      [
        { fromAccountId: "deposits:103", toAccountId: "deposits:101", amount: { amount: "1.00", currency: "USD" } },
        "CurrencyMismatch"
      ],
      [
        { fromAccountId: "deposits:201", toAccountId: "deposits:101", amount: { amount: "1.00", currency: "EUR" } },
        "FromAccountNotFound"
      ],
      [
        { fromAccountId: "deposits:999", toAccountId: "deposits:101", amount: { amount: "1.00", currency: "EUR" } },
        "FromAccountNotFound"
      ],
      [
        { fromAccountId: "deposits:101", toAccountId: "deposits:999", amount: { amount: "1.00", currency: "EUR" } },
        "ToAccountNotFound"
      ],
      [
        { fromAccountId: "deposits:101", toAccountId: "deposits:104", amount: { amount: "1.00", currency: "EUR" } },
        "AccountNotOpen"
      ]
    ] as const
    for (const [body, reason] of cases) {
      const sent = await transfer(token, { ...body, reference: reason })
      expect(sent.status).toBe(202)
      const status = await decided(token, sent.body.transferId)
      expect(status, reason).toMatchObject({ status: "rejected", reason })
      expect(typeof status.detail).toBe("string")
    }
    expect(await balances()).toEqual(before)
    await ledgersConsistent()
  })

  it("keeps the ledgers exact under opposite transfers between the same accounts at once", async () => {
    const { token } = await stack.login("alice", PASSWORD)
    const before = [await balanceOf(101), await balanceOf(102)]
    const sent = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        transfer(
          token,
          i % 2 === 0
            ? {
                fromAccountId: "deposits:101",
                toAccountId: "deposits:102",
                amount: { amount: "0.10", currency: "EUR" },
                reference: `there ${i}`
              }
            : {
                fromAccountId: "deposits:102",
                toAccountId: "deposits:101",
                amount: { amount: "0.01", currency: "EUR" },
                reference: `back ${i}`
              }
        )
      )
    )
    for (const answer of sent) expect((await decided(token, answer.body.transferId)).status).toBe("booked")
    expect(Number((await balanceOf(101)).balance)).toBe(Number(before[0]!.balance) - 8 * 10 + 8 * 1)
    expect(Number((await balanceOf(102)).balance)).toBe(Number(before[1]!.balance) + 8 * 10 - 8 * 1)
    await ledgersConsistent()
  })

  it("shows a customer only their own transfers", async () => {
    const alice = await stack.login("alice", PASSWORD)
    const bob = await stack.login("bob", PASSWORD)
    const sent = await transfer(alice.token, {
      fromAccountId: "deposits:101",
      toAccountId: "deposits:201",
      amount: { amount: "0.05", currency: "EUR" },
      reference: "mine"
    })
    await decided(alice.token, sent.body.transferId)
    const theirs = await stack.call("GET", `/v1/transfers/${sent.body.transferId}`, { token: bob.token })
    expect(theirs.status).toBe(404)
    expect(theirs.body.type).toBe("/docs/problems/transfer-not-found")
    expect((await stack.call("GET", `/v1/transfers/${randomUUID()}`, { token: alice.token })).status).toBe(404)
    expect((await stack.call("GET", "/v1/transfers/not-an-id", { token: alice.token })).status).toBe(404)
  })

  it("reads a transfer from PostgreSQL once Redis no longer holds its status", async () => {
    const { token } = await stack.login("bob", PASSWORD)
    const sent = await transfer(token, {
      fromAccountId: "deposits:201",
      toAccountId: "deposits:101",
      amount: { amount: "0.50", currency: "EUR" },
      reference: "old"
    })
    const transferId = sent.body.transferId as string
    const status = await decided(token, transferId)
    const keys = [
      Keys.customer("2").document(`transfer:${transferId}`),
      Keys.customer("2").key(`transfer-request:${transferId}`)
    ]
    expect(await stack.redis.ttl(keys[0]!)).toBeGreaterThan(0)
    await stack.redis.del(keys)
    const answer = await stack.call("GET", `/v1/transfers/${transferId}`, { token })
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual(status)
  })

  it("publishes the booked entries on the deposits CDC stream, the dashboards' only source", async () => {
    const { token } = await stack.login("alice", PASSWORD)
    const sent = await transfer(token, {
      fromAccountId: "deposits:101",
      toAccountId: "deposits:201",
      amount: { amount: "7.77", currency: "EUR" },
      reference: "via CDC"
    })
    await decided(token, sent.body.transferId)
    await vi.waitFor(
      async () => {
        const entries = (
          await Promise.all(
            Cdc.streams("deposits", Cdc.defaultPartitions).map((spec) =>
              stack.redis.xRange(Keys.stream(spec.name), "-", "+")
            )
          )
        ).flat()
        const booked = entries
          .map((e) => JSON.parse(e.message.data!) as { _tag: string; table?: string; new?: Record<string, string> })
          .filter((p) => p._tag === "RowChanged" && p.table === "transactions" && p.new?.description === "via CDC")
        expect(booked.map((p) => [p.new!.account_id, p.new!.amount]).sort()).toEqual([
          ["101", "-777"],
          ["201", "777"]
        ])
      },
      { timeout: 20_000, interval: 100 }
    )
  })
})
