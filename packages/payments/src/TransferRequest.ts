// What `POST /v1/transfers` accepts, and the identities derived from it:
// - the body's Schema (Body, as the OpenAPI document shows it) plus the rules that need the
//   currency table: the amount is money, `{ amount, currency }`, with at most the currency's
//   decimals ("12.50" EUR, "1500" JPY), converted exactly to minor units; both accounts are
//   deposit accounts named by the API's account id (`deposits:10`);
// - the Idempotency-Key header: 1-128 visible ASCII characters, required;
// - the transfer id: a UUID (version 8, RFC 9562) from SHA-256 of (customer id, idempotency key),
//   so every resend of a request names the same transfer without any lookup;
// - the request hash: SHA-256 of the request's content in a canonical form (amount in minor
//   units, so "12.5" and "12.50" are the same request), to tell a resend from a different
//   request under a key already used.
import { createHash } from "node:crypto"
import { minorFromText } from "@bank/records"
import { AccountId, Money } from "@bank/http"
import { Effect, Schema } from "effect"
import { InvalidIdempotencyKey } from "./Errors.ts"

/** Decimals of each currency code (ref.currencies). */
export type Exponents = ReadonlyMap<string, number>

const MAX_ID = 2n ** 63n - 1n

// Letters, digits, punctuation and spaces; no control characters (they end up in statements).
const Reference = Schema.String.check(
  Schema.isMaxLength(140),
  Schema.isPattern(/^[^\p{Cc}\p{Cf}]*$/u, { message: "must not contain control characters" })
)

/**
 * The body's shape, as the OpenAPI document describes it: from one of your current or savings
 * accounts to a current or savings account (`deposits:…` ids), an amount greater than zero in
 * the accounts' currency, a reference shown on both statements.
 */
export const Body = Schema.Struct({
  fromAccountId: AccountId,
  toAccountId: AccountId,
  amount: Money,
  reference: Reference.annotate({ description: "Shown on both statements; up to 140 characters." })
}).annotate({
  identifier: "TransferRequest",
  description:
    "From one of your current or savings accounts to a current or savings account (deposits:… ids); an amount greater than zero in the accounts' currency."
})
export type Body = typeof Body.Type

/** The deposit account's own id (digits) of an account id, or undefined for another product line. */
export const depositId = (accountId: string): string | undefined =>
  accountId.startsWith("deposits:") ? accountId.slice("deposits:".length) : undefined

/** The body's Schema for the currencies the bank knows: Body plus the rules that need the table. */
export const body = (exponents: Exponents) =>
  Body.check(
    Schema.makeFilter((b) => {
      const issues: Array<Schema.FilterIssue> = []
      const { amount, currency } = b.amount
      const exponent = exponents.get(currency)
      if (exponent === undefined)
        issues.push({ path: ["amount", "currency"], issue: `${currency} is not a currency we hold accounts in` })
      else {
        try {
          if (minorFromText(amount, exponent) <= 0n)
            issues.push({ path: ["amount", "amount"], issue: "must be greater than zero" })
        } catch (error) {
          issues.push({
            path: ["amount", "amount"],
            issue: `${(error as Error).message} (${currency} has ${exponent} decimals)`
          })
        }
      }
      for (const field of ["fromAccountId", "toAccountId"] as const) {
        const id = depositId(b[field])
        if (id === undefined)
          issues.push({
            path: [field],
            issue: "must be a current or savings account (deposits:…): transfers move money between them"
          })
        else if (BigInt(id) > MAX_ID) issues.push({ path: [field], issue: "is not an account id" })
      }
      if (b.fromAccountId === b.toAccountId)
        issues.push({ path: ["toAccountId"], issue: "must differ from fromAccountId" })
      return issues
    })
  )

/** A validated request: deposit account ids (digits) and the amount in minor units. */
export interface TransferRequest {
  readonly fromAccountId: string
  readonly toAccountId: string
  readonly amount: bigint
  readonly currency: string
  readonly reference: string
}

export const toRequest = (b: Body, exponents: Exponents): TransferRequest => ({
  fromAccountId: depositId(b.fromAccountId)!,
  toAccountId: depositId(b.toAccountId)!,
  amount: minorFromText(b.amount.amount, exponents.get(b.amount.currency)!),
  currency: b.amount.currency,
  reference: b.reference
})

const KEY = /^[\x21-\x7E]{1,128}$/

/** The Idempotency-Key header, validated. */
export const idempotencyKey = (header: string | undefined): Effect.Effect<string, InvalidIdempotencyKey> =>
  header === undefined || header === ""
    ? Effect.fail(new InvalidIdempotencyKey({ reason: "Missing" }))
    : KEY.test(header)
      ? Effect.succeed(header)
      : Effect.fail(new InvalidIdempotencyKey({ reason: "Malformed" }))

/** The transfer's id: a version-8 UUID from SHA-256 of the customer and the idempotency key. */
export const transferId = (customerId: string, key: string): string => {
  const bytes = createHash("sha256").update(`bank.transfer\u0000${customerId}\u0000${key}`).digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x80
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const h = bytes.toString("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export const isTransferId = (id: string): boolean =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)

/** SHA-256 (hex) of the request's content in a canonical form. */
export const requestHash = (r: TransferRequest): string =>
  createHash("sha256")
    .update(JSON.stringify([r.fromAccountId, r.toAccountId, r.amount.toString(), r.currency, r.reference]))
    .digest("hex")
