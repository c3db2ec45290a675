import { Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { fieldErrors } from "@bank/http"
import * as TransferRequest from "./TransferRequest.ts"

const exponents = new Map([
  ["EUR", 2],
  ["JPY", 0],
  ["KWD", 3]
])
const schema = TransferRequest.body(exponents)
const valid = {
  fromAccountId: "deposits:10",
  toAccountId: "deposits:11",
  amount: { amount: "12.50", currency: "EUR" },
  reference: "Rent March"
}
const money = (amount: unknown, currency = "EUR") => ({ amount, currency })

/** The decoded request, or the JSON pointers of every field the schema refused. */
const decode = (input: unknown) => {
  const result = Schema.decodeUnknownExit(schema)(input, { errors: "all" })
  if (Exit.isSuccess(result)) return { request: TransferRequest.toRequest(result.value, exponents) }
  const error = result.cause.reasons.find((r) => r._tag === "Fail")
  return {
    errors: fieldErrors((error as { error: Schema.SchemaError }).error.issue)
      .map((e) => e.path)
      .sort()
  }
}

describe("TransferRequest", () => {
  it("reads the amount exactly into minor units with the currency's decimals", () => {
    expect(decode(valid)).toEqual({
      request: { fromAccountId: "10", toAccountId: "11", amount: 1250n, currency: "EUR", reference: "Rent March" }
    })
    expect(decode({ ...valid, amount: money("1500", "JPY") }).request?.amount).toBe(1500n)
    expect(decode({ ...valid, amount: money("0.001", "KWD") }).request?.amount).toBe(1n)
  })

  it("refuses amounts that are not positive decimals of the currency, naming the field", () => {
    for (const amount of ["12.505", "0", "0.00", "-5", "1e3", "12,50", ""]) {
      expect(decode({ ...valid, amount: money(amount) }), amount).toEqual({ errors: ["/amount/amount"] })
    }
    expect(decode({ ...valid, amount: money("1500.5", "JPY") })).toEqual({ errors: ["/amount/amount"] })
    // A number is refused: JSON numbers are floats to most clients.
    expect(decode({ ...valid, amount: money(12.5) })).toEqual({ errors: ["/amount/amount"] })
    expect(decode({ ...valid, amount: "12.50" })).toEqual({ errors: ["/amount"] })
  })

  it("refuses unknown currencies, bad or equal account ids and control characters", () => {
    expect(decode({ ...valid, amount: money("1.00", "XYZ") })).toEqual({ errors: ["/amount/currency"] })
    expect(decode({ ...valid, toAccountId: "deposits:10" })).toEqual({ errors: ["/toAccountId"] })
    expect(decode({ ...valid, fromAccountId: 10, toAccountId: "abc" })).toEqual({
      errors: ["/fromAccountId", "/toAccountId"]
    })
    expect(decode({ ...valid, fromAccountId: "10" })).toEqual({ errors: ["/fromAccountId"] })
    expect(decode({ ...valid, toAccountId: "cards:3" })).toEqual({ errors: ["/toAccountId"] })
    expect(decode({ ...valid, fromAccountId: "deposits:99999999999999999999" })).toEqual({ errors: ["/fromAccountId"] })
    expect(decode({ ...valid, reference: "line\nbreak" })).toEqual({ errors: ["/reference"] })
    expect(decode({ ...valid, reference: "x".repeat(141) })).toEqual({ errors: ["/reference"] })
  })

  it("derives the same transfer id for the same customer and key, and a different one otherwise", () => {
    const id = TransferRequest.transferId("7", "key-1")
    expect(TransferRequest.isTransferId(id)).toBe(true)
    expect(TransferRequest.transferId("7", "key-1")).toBe(id)
    expect(TransferRequest.transferId("7", "key-2")).not.toBe(id)
    expect(TransferRequest.transferId("8", "key-1")).not.toBe(id)
    // The separator keeps ("7", "1x") and ("71", "x") apart.
    expect(TransferRequest.transferId("7", "1x")).not.toBe(TransferRequest.transferId("71", "x"))
  })

  it("hashes the request's content, so 12.5 and 12.50 are the same request", () => {
    const hash = (amount: string, reference = valid.reference) =>
      TransferRequest.requestHash(decode({ ...valid, amount: money(amount), reference }).request!)
    expect(hash("12.5")).toBe(hash("12.50"))
    expect(hash("12.51")).not.toBe(hash("12.50"))
    expect(hash("12.50", "other")).not.toBe(hash("12.50"))
  })

  it("requires an Idempotency-Key of 1-128 visible ASCII characters", async () => {
    const key = (header: string | undefined) => Effect.runPromise(Effect.result(TransferRequest.idempotencyKey(header)))
    expect((await key("3f2a-uuid-like"))._tag).toBe("Success")
    for (const [header, reason] of [
      [undefined, "Missing"],
      ["", "Missing"],
      ["has space", "Malformed"],
      ["é", "Malformed"],
      ["x".repeat(129), "Malformed"]
    ] as const) {
      const result = await key(header)
      expect(result._tag === "Failure" && result.failure.reason, String(header)).toBe(reason)
    }
  })
})
