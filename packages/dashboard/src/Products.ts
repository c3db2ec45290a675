// What the dashboard takes from each product system's tables, and how a row (PostgreSQL's text
// of each column, as CDC carries it and as PgDashboard selects it) becomes an account or a
// transaction of the document. Money becomes the API's one form, `{ amount, currency }` with the
// currency's decimals ("-12.50" EUR), stored as the API serves it so a read is the stored text;
// times become ISO-8601 UTC with microseconds. One table of fields per system, read by both the projector
// and the PostgreSQL assembler, so the two can only agree.
import type { Cdc } from "@bank/contracts"
import { currencyExponents, minorToText } from "@bank/records"
import { isoTime } from "./Positions.ts"

export const systems = ["deposits", "cards", "lending", "investments"] as const
export type System = (typeof systems)[number]

export const isSystem = (s: string): s is System => (systems as ReadonlyArray<string>).includes(s)

/**
 * How a column becomes a field: as text, as an ISO time, as a JS integer (small counts only), or
 * as money (minor units, in the currency of the row's `currency` column unless another is named).
 */
type Kind = "text" | "time" | "int" | "money"
type Field = readonly [field: string, column: string, kind?: Kind, currencyColumn?: string]

export interface ProductSpec {
  /** The accounts table (in the system's schema) and its id column. */
  readonly accounts: string
  readonly accountId: string
  /** The account's kind shown to the customer: a column, or a constant. */
  readonly type: { readonly column: string } | { readonly constant: string }
  readonly accountFields: ReadonlyArray<Field>
  /** The ledger table; its rows carry `transaction_id`, the account id column and `customer_id`. */
  readonly transactions: string
  readonly transactionFields: ReadonlyArray<Field>
}

const ledger: ReadonlyArray<Field> = [
  ["entryNo", "entry_no", "int"],
  ["amount", "amount", "money"],
  ["bookingDate", "booking_date"],
  ["valueDate", "value_date"],
  ["bookedAt", "booked_at", "time"],
  ["description", "description"],
  ["counterparty", "counterparty"],
  ["category", "category"],
  ["runningBalance", "running_balance", "money"]
]

export const products: Readonly<Record<System, ProductSpec>> = {
  deposits: {
    accounts: "accounts",
    accountId: "account_id",
    type: { column: "product" },
    accountFields: [
      ["name", "name"],
      ["iban", "iban"],
      ["currency", "currency"],
      ["balance", "balance", "money"],
      ["availableBalance", "available_balance", "money"],
      ["overdraftLimit", "overdraft_limit", "money"],
      ["interestRate", "interest_rate"],
      ["status", "status"],
      ["openedOn", "opened_on"],
      ["lastEntryNo", "last_entry_no", "int"]
    ],
    transactions: "transactions",
    transactionFields: ledger
  },
  cards: {
    accounts: "cards",
    accountId: "card_id",
    type: { constant: "credit_card" },
    accountFields: [
      ["product", "product"],
      ["network", "network"],
      ["panLast4", "pan_last4"],
      ["expiresOn", "expires_on"],
      ["currency", "currency"],
      ["creditLimit", "credit_limit", "money"],
      ["balance", "balance", "money"],
      ["availableCredit", "available_credit", "money"],
      ["interestRate", "interest_rate"],
      ["statementDate", "statement_date"],
      ["statementBalance", "statement_balance", "money"],
      ["minimumPayment", "minimum_payment", "money"],
      ["paymentDueDate", "payment_due_date"],
      ["status", "status"],
      ["openedOn", "opened_on"]
    ],
    transactions: "transactions",
    transactionFields: [...ledger, ["originalAmount", "original_amount", "money", "original_currency"]]
  },
  lending: {
    accounts: "loans",
    accountId: "loan_id",
    type: { column: "product" },
    accountFields: [
      ["currency", "currency"],
      ["principal", "principal", "money"],
      ["outstandingPrincipal", "outstanding", "money"],
      ["interestRate", "interest_rate"],
      ["termMonths", "term_months", "int"],
      ["startDate", "start_date"],
      ["maturityDate", "maturity_date"],
      ["nextInstalmentDate", "next_instalment_date"],
      ["nextInstalmentAmount", "next_instalment_amount", "money"],
      ["status", "status"]
    ],
    transactions: "transactions",
    transactionFields: ledger
  },
  investments: {
    accounts: "accounts",
    accountId: "account_id",
    type: { column: "product" },
    accountFields: [
      ["name", "name"],
      ["currency", "currency"],
      ["cashBalance", "cash_balance", "money"],
      ["marketValue", "market_value", "money"],
      ["valuedAt", "valued_at", "time"],
      ["status", "status"],
      ["openedOn", "opened_on"]
    ],
    transactions: "transactions",
    transactionFields: [...ledger, ["isin", "isin"], ["quantity", "quantity"], ["price", "price", "money"]]
  }
}

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

/** An account or transaction of the document: `id` is `<system>:<id in that system>`. */
export interface Item {
  readonly id: string
  readonly [field: string]: Json
}

/** The currency a money field is in: its own column's, else the one the item already shows. */
const currencyOf = (row: Cdc.Row, column: string, target: Record<string, Json>, field: string): string | undefined => {
  const fromRow = row[column]
  if (typeof fromRow === "string") return fromRow
  const shown = target[field]
  return shown !== null &&
    typeof shown === "object" &&
    !Array.isArray(shown) &&
    typeof (shown as { currency?: Json }).currency === "string"
    ? (shown as { currency: string }).currency
    : undefined
}

const convert = (value: string | null, kind: Kind | undefined, currency: string | undefined): Json => {
  if (value === null) return null
  if (kind === "time") return isoTime(value)
  if (kind === "int") return Number(value)
  if (kind === "money") {
    const exponent = currency === undefined ? undefined : currencyExponents.get(currency)
    // A currency we do not know cannot be formatted: the minor units stay visible, not a guess.
    return exponent === undefined
      ? { amount: value, currency: currency ?? null, minorUnits: true }
      : { amount: minorToText(BigInt(value), exponent), currency: currency! }
  }
  return value
}

// Columns an update left out (unchanged TOASTed values) keep the field the item already has.
const fill = (
  target: Record<string, Json>,
  fields: ReadonlyArray<Field>,
  row: Cdc.Row,
  unchanged: ReadonlyArray<string>
) => {
  for (const [field, column, kind, currencyColumn] of fields) {
    if (Object.hasOwn(row, column) && !unchanged.includes(column)) {
      target[field] = convert(
        row[column] ?? null,
        kind,
        kind === "money" ? currencyOf(row, currencyColumn ?? "currency", target, field) : undefined
      )
    } else if (!(field in target)) target[field] = null
  }
}

/** The account a row of the system's accounts table describes, over what `existing` held. */
export const accountOf = (
  system: System,
  row: Cdc.Row,
  unchanged: ReadonlyArray<string> = [],
  existing?: Item
): Item => {
  const spec = products[system]
  const account: Record<string, Json> = { ...existing, id: `${system}:${row[spec.accountId]}`, system }
  account.type = "constant" in spec.type ? spec.type.constant : (existing?.type ?? null)
  if ("column" in spec.type && Object.hasOwn(row, spec.type.column)) account.type = row[spec.type.column] ?? null
  fill(account, spec.accountFields, row, unchanged)
  return account as Item
}

/** The transaction a ledger row describes. */
export const transactionOf = (
  system: System,
  row: Cdc.Row,
  unchanged: ReadonlyArray<string> = [],
  existing?: Item
): Item => {
  const spec = products[system]
  const transaction: Record<string, Json> = {
    ...existing,
    id: `${system}:${row.transaction_id}`,
    accountId: `${system}:${row[spec.accountId]}`
  }
  fill(transaction, spec.transactionFields, row, unchanged)
  return transaction as Item
}

/** Every column the dashboard reads from the system's accounts and ledger tables. */
export const columns = (system: System) => {
  const spec = products[system]
  const typeColumn = "column" in spec.type ? [spec.type.column] : []
  const pick = (fields: ReadonlyArray<Field>) => {
    const picked = fields.map(([, column, kind]) => ({ column, time: kind === "time" }))
    // Money needs its currency's column even where the currency is not a field of its own.
    const currencies = fields.flatMap(([, , kind, currencyColumn]) =>
      kind === "money" ? [currencyColumn ?? "currency"] : []
    )
    for (const column of new Set(currencies))
      if (!picked.some((p) => p.column === column)) picked.push({ column, time: false })
    return picked
  }
  return {
    accounts: [
      { column: spec.accountId, time: false },
      ...typeColumn.map((column) => ({ column, time: false })),
      ...pick(spec.accountFields)
    ],
    transactions: [
      { column: "transaction_id", time: false },
      { column: spec.accountId, time: false },
      ...pick(spec.transactionFields)
    ]
  }
}
