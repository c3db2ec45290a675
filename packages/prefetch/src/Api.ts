// The prefetch routes as the OpenAPI document describes them: transaction pages and reference
// data, with the Schemas of what Transactions.view and ReferenceData build.
import { AccountId, DateOnly, DateTime, Money, type Operation, operation } from "@bank/http"
import { Schema } from "effect"
import { MAX_LIMIT } from "./Routes.ts"

export const TransactionView = Schema.Struct({
  transactionId: Schema.String,
  entryNo: Schema.Int.annotate({ description: "The entry's number in the account's ledger: 1, 2, 3..." }),
  amount: Money,
  bookingDate: DateOnly,
  valueDate: DateOnly,
  bookedAt: DateTime,
  description: Schema.String,
  counterparty: Schema.NullOr(Schema.String),
  category: Schema.String,
  /** The account's balance after this entry. */
  runningBalance: Money
}).annotate({ identifier: "Transaction" })

export const TransactionPage = Schema.Struct({
  accountId: AccountId,
  currency: Schema.String,
  transactions: Schema.Array(TransactionView),
  nextCursor: Schema.NullOr(Schema.String).annotate({
    description: "Pass as `cursor` for the next (older) page; null on the last."
  })
}).annotate({ identifier: "TransactionPage" })

export const Products = Schema.Struct({
  products: Schema.Array(
    Schema.Struct({
      system: Schema.String,
      product: Schema.String,
      name: Schema.String,
      description: Schema.String,
      interestRate: Schema.NullOr(Schema.String),
      annualFee: Money,
      available: Schema.Boolean,
      updatedAt: DateTime
    })
  )
}).annotate({ identifier: "ProductCatalogue" })

export const ExchangeRates = Schema.Struct({
  rates: Schema.Array(
    Schema.Struct({
      base: Schema.String,
      quote: Schema.String,
      rate: Schema.String.annotate({ description: "Units of quote per unit of base, an exact decimal string." }),
      asOf: DateTime
    })
  )
}).annotate({ identifier: "ExchangeRates" })

const dataSource = { "X-Data-Source": { description: "redis or postgres: which store answered." } }

export const prefetchOperations: ReadonlyArray<Operation> = [
  operation({
    method: "get",
    path: "/v1/accounts/{id}/transactions",
    operationId: "listTransactions",
    tag: "Transactions",
    summary: "One page of an account's transactions, newest first",
    parameters: [
      {
        name: "id",
        in: "path",
        required: true,
        description: "The account id, as the dashboard shows it.",
        schema: AccountId
      },
      { name: "cursor", in: "query", description: "The previous page's nextCursor." },
      {
        name: "limit",
        in: "query",
        description: `1-${MAX_LIMIT}, default 20.`,
        schema: Schema.String.check(Schema.isPattern(/^[0-9]{1,3}$/u))
      }
    ],
    responses: { 200: { description: "The page.", schema: TransactionPage, headers: dataSource } },
    problems: ["AccountNotFound", "InvalidPageQuery"]
  }),
  operation({
    method: "get",
    path: "/v1/reference/products",
    operationId: "listProducts",
    tag: "Reference data",
    summary: "The product catalogue",
    responses: { 200: { description: "Every product.", schema: Products, headers: dataSource } }
  }),
  operation({
    method: "get",
    path: "/v1/reference/exchange-rates",
    operationId: "listExchangeRates",
    tag: "Reference data",
    summary: "Exchange rates",
    responses: { 200: { description: "Every rate.", schema: ExchangeRates, headers: dataSource } }
  })
]
