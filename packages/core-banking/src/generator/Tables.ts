// The tables the generator fills, their columns in the order rows are built, and the order
// they load in (parents before children, for the foreign keys). Rows are encoded for COPY's
// text format: tab-separated, `\N` for NULL, backslash escapes.

export type Value = string | number | bigint | boolean | null | ReadonlyArray<string>
export type Row = ReadonlyArray<Value>

const ledgerColumns = (accountColumn: string) =>
  [
    "transaction_id",
    accountColumn,
    "customer_id",
    "entry_no",
    "amount",
    "currency",
    "booking_date",
    "value_date",
    "booked_at",
    "description",
    "counterparty",
    "category",
    "running_balance"
  ] as const

export const tables = {
  customers: {
    name: "customer.customers",
    columns: [
      "customer_id",
      "given_name",
      "family_name",
      "email",
      "phone",
      "address_line1",
      "address_line2",
      "postal_code",
      "city",
      "country",
      "date_of_birth",
      "segment",
      "kyc_status",
      "kyc_reviewed_at",
      "roles",
      "created_at",
      "updated_at"
    ]
  },
  credentials: {
    name: "customer.credentials",
    columns: [
      "customer_id",
      "username",
      "password_hash",
      "status",
      "failed_attempts",
      "last_login_at",
      "password_changed_at",
      "created_at",
      "updated_at"
    ]
  },
  preferences: {
    name: "crm.preferences",
    columns: [
      "customer_id",
      "language",
      "theme",
      "marketing_email",
      "marketing_sms",
      "marketing_push",
      "consent_updated_at",
      "created_at",
      "updated_at"
    ]
  },
  wishList: { name: "crm.wish_list_items", columns: ["customer_id", "product_code", "note", "added_at"] },
  interests: { name: "crm.interests", columns: ["customer_id", "interest", "score", "updated_at"] },
  depositAccounts: {
    name: "deposits.accounts",
    columns: [
      "account_id",
      "customer_id",
      "iban",
      "product",
      "name",
      "currency",
      "balance",
      "available_balance",
      "overdraft_limit",
      "interest_rate",
      "last_entry_no",
      "status",
      "opened_on",
      "created_at",
      "updated_at"
    ]
  },
  depositTransactions: { name: "deposits.transactions", columns: ledgerColumns("account_id") },
  cards: {
    name: "cards.cards",
    columns: [
      "card_id",
      "customer_id",
      "product",
      "network",
      "pan_last4",
      "expires_on",
      "currency",
      "credit_limit",
      "balance",
      "available_credit",
      "interest_rate",
      "statement_date",
      "statement_balance",
      "minimum_payment",
      "payment_due_date",
      "last_entry_no",
      "status",
      "opened_on",
      "created_at",
      "updated_at"
    ]
  },
  cardTransactions: {
    name: "cards.transactions",
    columns: [...ledgerColumns("card_id"), "original_amount", "original_currency"]
  },
  loans: {
    name: "lending.loans",
    columns: [
      "loan_id",
      "customer_id",
      "product",
      "currency",
      "principal",
      "outstanding",
      "interest_rate",
      "term_months",
      "start_date",
      "maturity_date",
      "next_instalment_date",
      "next_instalment_amount",
      "last_entry_no",
      "status",
      "created_at",
      "updated_at"
    ]
  },
  loanTransactions: { name: "lending.transactions", columns: ledgerColumns("loan_id") },
  investmentAccounts: {
    name: "investments.accounts",
    columns: [
      "account_id",
      "customer_id",
      "product",
      "name",
      "currency",
      "cash_balance",
      "market_value",
      "valued_at",
      "last_entry_no",
      "status",
      "opened_on",
      "created_at",
      "updated_at"
    ]
  },
  holdings: {
    name: "investments.holdings",
    columns: [
      "account_id",
      "isin",
      "customer_id",
      "currency",
      "quantity",
      "price",
      "market_value",
      "priced_at",
      "updated_at"
    ]
  },
  investmentTransactions: {
    name: "investments.transactions",
    columns: [...ledgerColumns("account_id"), "isin", "quantity", "price"]
  }
} as const

export type TableName = keyof typeof tables

/** Load order: every table after the tables its foreign keys point to. */
export const loadOrder: ReadonlyArray<TableName> = [
  "customers",
  "credentials",
  "preferences",
  "wishList",
  "interests",
  "depositAccounts",
  "depositTransactions",
  "cards",
  "cardTransactions",
  "loans",
  "loanTransactions",
  "investmentAccounts",
  "holdings",
  "investmentTransactions"
]

/** Tables with an identity column the generator fills itself, and that column. */
export const identities: ReadonlyArray<readonly [string, string]> = [
  ["customer.customers", "customer_id"],
  ["deposits.accounts", "account_id"],
  ["deposits.transactions", "transaction_id"],
  ["cards.cards", "card_id"],
  ["cards.transactions", "transaction_id"],
  ["lending.loans", "loan_id"],
  ["lending.transactions", "transaction_id"],
  ["investments.accounts", "account_id"],
  ["investments.transactions", "transaction_id"]
]

const escapeText = (text: string) =>
  /[\\\t\n\r]/.test(text)
    ? text.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"))
    : text

const encodeValue = (value: Value): string => {
  if (value === null) return "\\N"
  if (typeof value === "string") return escapeText(value)
  if (typeof value === "boolean") return value ? "t" : "f"
  if (typeof value === "number" || typeof value === "bigint") return String(value)
  // text[] of plain words (roles): PostgreSQL's array literal needs no quoting for them.
  return escapeText(`{${value.join(",")}}`)
}

/** One line of COPY text format, newline included. */
export const encodeRow = (row: Row): string => row.map(encodeValue).join("\t") + "\n"
