// Seed data for the suites about transfers (transfers, traces): two customers with accounts in a
// known state, password PASSWORD (cheap hashing). `accounts` is what was seeded (balances in
// minor units); every account with a balance has it as its first ledger entry.
// alice (1): 101 EUR current 1,000.00, 102 EUR savings 50.00, 103 USD current 200.00, 104 EUR blocked.
// bob (2): 201 EUR current 10.00.
import { PasswordHash } from "@bank/platform"
import { Effect } from "effect"
import type pg from "pg"

export const PASSWORD = "correct horse battery"

export const accounts = [
  { id: 101, customer: 1, currency: "EUR", balance: 100_000, status: "open" },
  { id: 102, customer: 1, currency: "EUR", balance: 5_000, status: "open" },
  { id: 103, customer: 1, currency: "USD", balance: 20_000, status: "open" },
  { id: 104, customer: 1, currency: "EUR", balance: 0, status: "blocked" },
  { id: 201, customer: 2, currency: "EUR", balance: 1_000, status: "open" }
]

export const seed = async (db: pg.Client) => {
  const hash = await Effect.runPromise(
    PasswordHash.hash(PASSWORD, { params: { ...PasswordHash.defaultParams, N: 1024 } })
  )
  for (const [id, name] of [
    [1, "alice"],
    [2, "bob"]
  ] as const) {
    await db.query(
      `INSERT INTO customer.customers (customer_id, given_name, family_name, email, address_line1, postal_code, city, country, date_of_birth, segment)
       VALUES ($1, $2, 'Test', $3, '1 Main St', '1000', 'Brussels', 'BE', '1980-01-01', 'retail')`,
      [id, name, `${name}@example.com`]
    )
    await db.query("INSERT INTO customer.credentials (customer_id, username, password_hash) VALUES ($1, $2, $3)", [
      id,
      name,
      hash
    ])
  }
  for (const a of accounts) {
    await db.query(
      `INSERT INTO deposits.accounts (account_id, customer_id, iban, product, name, currency, balance, available_balance, last_entry_no, status, opened_on)
       VALUES ($1, $2, $3, 'current', 'Account', $4, $5, $5, $6, $7, '2024-01-02')`,
      [
        a.id,
        a.customer,
        `BE00${String(a.id).padStart(12, "0")}`,
        a.currency,
        a.balance,
        a.balance > 0 ? 1 : 0,
        a.status
      ]
    )
    if (a.balance > 0) {
      await db.query(
        `INSERT INTO deposits.transactions (account_id, customer_id, entry_no, amount, currency, booking_date, value_date, booked_at,
           description, category, running_balance) VALUES ($1, $2, 1, $3, $4, '2024-01-02', '2024-01-02', '2024-01-02T09:00:00Z',
           'Balance brought forward', 'opening', $3)`,
        [a.id, a.customer, a.balance, a.currency]
      )
    }
  }
}
