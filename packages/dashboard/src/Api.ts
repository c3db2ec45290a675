// The dashboard routes as the OpenAPI document describes them, and the document's Schema. The
// route serves the stored text untouched (that is why it is fast), so this Schema is what the
// projection writes (Dashboard.ts, Products.ts); the end-to-end suites validate every answer
// against it.
import { AccountId, consistencyTokenRequest, DateOnly, DateTime, Money, type Operation, operation } from "@bank/http"
import { Schema } from "effect"
import { systems } from "./Products.ts"

const OptionalMoney = Schema.optionalKey(Schema.NullOr(Money))
const Text = Schema.NullOr(Schema.String)

export const Account = Schema.Struct({
  id: AccountId,
  system: Schema.Literals(systems).annotate({
    description: "The product line: deposits, cards, lending (loans and mortgages) or investments."
  }),
  type: Text.annotate({
    description: "The product: current, savings, credit_card, mortgage, personal_loan, brokerage, ..."
  }),
  currency: Text,
  name: Schema.optionalKey(Text),
  status: Text,
  balance: OptionalMoney,
  availableBalance: OptionalMoney,
  overdraftLimit: OptionalMoney,
  creditLimit: OptionalMoney,
  availableCredit: OptionalMoney,
  statementBalance: OptionalMoney,
  minimumPayment: OptionalMoney,
  principal: OptionalMoney,
  outstandingPrincipal: OptionalMoney,
  nextInstalmentAmount: OptionalMoney,
  cashBalance: OptionalMoney,
  marketValue: OptionalMoney,
  lastEntryNo: Schema.optionalKey(
    Schema.NullOr(Schema.Int).annotate({
      description: "Deposit accounts: the number of the newest ledger entry shown (compare a transfer's debitEntryNo)."
    })
  )
}).annotate({
  identifier: "DashboardAccount",
  description: "One account; which money fields it has depends on its product line."
})

export const Transaction = Schema.Struct({
  id: Schema.String,
  accountId: AccountId,
  entryNo: Schema.NullOr(Schema.Int),
  amount: Schema.NullOr(Money),
  bookingDate: Schema.NullOr(DateOnly),
  valueDate: Schema.NullOr(DateOnly),
  bookedAt: Schema.NullOr(DateTime),
  description: Text,
  counterparty: Text,
  category: Text,
  runningBalance: Schema.NullOr(Money),
  originalAmount: OptionalMoney,
  price: OptionalMoney
}).annotate({ identifier: "DashboardTransaction" })

export const Total = Schema.Struct({ currency: Schema.String, assets: Money, liabilities: Money, net: Money }).annotate(
  {
    identifier: "Total",
    description: "Per currency: deposits and investments are assets, card balances and loans liabilities."
  }
)

export const DashboardDocument = Schema.Struct({
  customerId: Schema.String,
  revision: Schema.String.annotate({ description: "Grows with every change of the document." }),
  asOf: Schema.NullOr(DateTime).annotate({
    description: "Commit time of the newest change shown; null before the first."
  }),
  sources: Schema.Record(Schema.String, Schema.Struct({ position: Schema.String, commitTime: DateTime })).annotate({
    description: "Per product system: the position of the newest change shown."
  }),
  totals: Schema.Array(Total),
  accounts: Schema.Array(Account),
  latestTransactions: Schema.Array(Transaction)
}).annotate({ identifier: "Dashboard" })

export const dashboardOperations: ReadonlyArray<Operation> = [
  operation({
    method: "get",
    path: "/v1/dashboard",
    operationId: "getDashboard",
    tag: "Dashboard",
    summary: "Your dashboard: every account, totals per currency, the latest transactions",
    parameters: [consistencyTokenRequest],
    responses: { 200: { description: "The dashboard document.", schema: DashboardDocument } },
    problems: ["InvalidConsistencyToken", "NotYetConsistent"]
  }),
  operation({
    method: "get",
    path: "/v1/dashboard/events",
    operationId: "dashboardEvents",
    tag: "Dashboard",
    summary: "Live dashboard (Server-Sent Events)",
    description:
      'First `event: ready`, then `event: dashboard` with the whole document (the Dashboard schema) as `data` after every change, the current one first. Each event\'s `id` is its position in your feed: reconnect with `Last-Event-ID` to resume after it. When the session or its token ends, a last `event: end` with `{"reason": ...}` and the stream closes. A comment line every 15 s keeps idle connections open.',
    parameters: [
      { name: "Last-Event-ID", in: "header", description: "The id of the last event received, to resume after it." }
    ],
    responses: { 200: { description: "An event stream.", contentType: "text/event-stream", schema: Schema.String } }
  })
]
