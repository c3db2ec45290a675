// Demo data for the suites that use the whole system (read-your-writes, the browser test): the
// generator's customers (every product line, as `npm start` seeds them, password
// DEMO_PASSWORD), plus, so a transfer between own accounts is always possible, a second
// current account for `demo1` in the currency of its first, with an opening balance.
import { Generator } from "@bank/core-banking"
import { Database, PasswordHash } from "@bank/platform"
import { Effect } from "effect"
import type pg from "pg"

export const USER = "demo1"
export const PASSWORD = Generator.DEMO_PASSWORD

export const seed = async (db: pg.Client, url: string) => {
  await Effect.runPromise(
    Generator.seed(url, {
      customers: 3,
      months: 1,
      scrypt: { ...PasswordHash.defaultParams, N: 1024 },
      hashPool: 3,
      progress: false
    }).pipe(Effect.provide(Database.layer(url)))
  )
  const {
    rows: [first]
  } = await db.query(
    `SELECT a.customer_id, a.currency FROM deposits.accounts a JOIN customer.credentials c ON c.customer_id = a.customer_id
      WHERE c.username = $1 ORDER BY a.account_id LIMIT 1`,
    [USER]
  )
  const {
    rows: [{ id }]
  } = await db.query("SELECT max(account_id) + 1 AS id FROM deposits.accounts")
  await db.query(
    `INSERT INTO deposits.accounts (account_id, customer_id, iban, product, name, currency, balance, available_balance, last_entry_no, status, opened_on)
     VALUES ($1, $2, $3, 'savings', 'Rainy day savings', $4, 250000, 250000, 1, 'open', '2024-01-02')`,
    [id, first.customer_id, `BE99${String(id).padStart(12, "0")}`, first.currency]
  )
  await db.query(
    `INSERT INTO deposits.transactions (account_id, customer_id, entry_no, amount, currency, booking_date, value_date, booked_at,
       description, category, running_balance) VALUES ($1, $2, 1, 250000, $3, current_date, current_date, now(), 'Opening deposit', 'opening', 250000)`,
    [id, first.customer_id, first.currency]
  )
}
