// The API's conventions as Schemas, shared by every capability's routes and by the OpenAPI
// document (ApiDocument.ts), so what a route decodes and what the document says are one thing:
// - an account id is one opaque string, the same in every endpoint (`deposits:10`, `cards:7`);
// - money is `{ amount, currency }`: a decimal string with exactly the currency's decimals and
//   the ISO 4217 code (the Berlin Group / UK Open Banking convention), never a JSON number;
// - a date-time is RFC 3339 in UTC with a `Z` (`2026-12-07T09:30:00.123Z`; up to 6 decimals);
//   a date is `YYYY-MM-DD`.
import { Schema } from "effect"

/** Product lines an account id can name. */
export const accountSystems = ["deposits", "cards", "lending", "investments"] as const

// The `u` flag: only Unicode-aware patterns become `pattern` in the JSON Schema.
const ACCOUNT_ID = /^(deposits|cards|lending|investments):[1-9][0-9]{0,18}$/u

export const AccountId = Schema.String.check(
  Schema.isPattern(ACCOUNT_ID, { message: "must be an account id such as deposits:10" })
).annotate({
  identifier: "AccountId",
  description: "An account, the same string in every endpoint. Opaque: compare it, send it back, never parse it.",
  examples: ["deposits:10"]
})

const DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/u

export const Money = Schema.Struct({
  amount: Schema.String.check(
    Schema.isPattern(DECIMAL, { message: "must be a decimal number such as 12.50" })
  ).annotate({
    description:
      "Decimal string with exactly the currency's decimals (2 for EUR, 0 for JPY, 3 for KWD); negative for a debit."
  }),
  currency: Schema.String.check(
    Schema.isPattern(/^[A-Z]{3}$/u, { message: "must be an ISO 4217 code such as EUR" })
  ).annotate({
    description: "ISO 4217 currency code."
  })
}).annotate({
  identifier: "Money",
  description: "An amount of money.",
  examples: [{ amount: "-12.50", currency: "EUR" }]
})

export const DateTime = Schema.String.annotate({
  identifier: "DateTime",
  format: "date-time",
  description: "RFC 3339 date-time in UTC (`Z`); fractional seconds optional, up to 6 digits."
})

export const DateOnly = Schema.String.annotate({
  identifier: "Date",
  format: "date",
  description: "A calendar date, YYYY-MM-DD."
})

export const FieldError = Schema.Struct({
  path: Schema.String.annotate({
    description: 'JSON Pointer (RFC 6901) to the offending value; "" is the whole body.'
  }),
  message: Schema.String
}).annotate({ identifier: "FieldError" })

/** RFC 9457 problem details: the body of every error response. */
export const Problem = Schema.StructWithRest(
  Schema.Struct({
    type: Schema.String.annotate({
      description: "A URL relative to the API: the page documenting this problem (/docs/problems#<slug>)."
    }),
    title: Schema.String,
    status: Schema.Int,
    detail: Schema.String,
    instance: Schema.String,
    requestId: Schema.String
  }),
  [Schema.Record(Schema.String, Schema.Any)]
).annotate({ identifier: "Problem", description: "RFC 9457 problem details (application/problem+json)." })
