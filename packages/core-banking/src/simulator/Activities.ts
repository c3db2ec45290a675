// One piece of core-banking activity per call, as the product back ends would write it: lock
// the account row, decide (a debit the account cannot cover is declined), then book the entry
// with its running balance and move the balances, all in one database transaction. The row
// lock serialises concurrent activity on an account, so entry numbers and running balances
// stay exact under any concurrency.
import { Database } from "@bank/platform"
import { Effect } from "effect"
import { Money, postDepositEntry } from "@bank/records"
import type { Random } from "../Prng.ts"
import { cardSpending, everydaySpending } from "../generator/Catalogue.ts"

export type System = "deposits" | "cards" | "lending" | "investments"
export type Outcome = "booked" | "declined" | "missing"

export interface Env {
  readonly rng: Random
  readonly units: Money.MinorUnits
}

const money = (env: Env, eurCents: number, currency: string) =>
  currency === "EUR" ? eurCents : Number(Money.convert(env.units, BigInt(eurCents), "EUR", currency))

// Booked now, in UTC, as the back end would stamp it.
const ENTRY = `booking_date, value_date, booked_at) VALUES`
const NOW = `(now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date, now())`

export const deposits = (env: Env, accountId: number) =>
  Database.Database.use((db) =>
    db.transaction(
      Effect.fnUntraced(function* (tx) {
        type Account = {
          account_id: string
          customer_id: string
          currency: string
          balance: string
          available_balance: string
          last_entry_no: string
        }
        const [a] = yield* tx.query<Account>(
          `SELECT account_id, customer_id, currency, balance, available_balance, last_entry_no
       FROM deposits.accounts WHERE account_id = $1 AND status = 'open' FOR UPDATE`,
          [accountId]
        )
        if (!a) return "missing" as Outcome
        const { rng } = env
        const spend = rng.chance(0.8)
        const merchant = rng.pick(rng.weighted(everydaySpending))
        const amount = spend
          ? -money(env, rng.around(merchant.medianCents), a.currency)
          : money(env, rng.around(10_000), a.currency)
        if (BigInt(a.available_balance) + BigInt(amount) < 0n) return "declined" as Outcome
        yield* postDepositEntry(
          tx,
          a,
          spend
            ? {
                amount: BigInt(amount),
                description: merchant.name,
                counterparty: merchant.name,
                category: merchant.category
              }
            : {
                amount: BigInt(amount),
                description: "Transfer",
                counterparty: rng.pick(["J. Doe", "Family account", "Flatmate share"]),
                category: "transfer_in"
              }
        )
        return "booked" as Outcome
      })
    )
  )

export const cards = (env: Env, cardId: number) =>
  Database.Database.use((db) =>
    db.transaction(
      Effect.fnUntraced(function* (tx) {
        type Card = {
          card_id: string
          customer_id: string
          currency: string
          balance: string
          available_credit: string
          last_entry_no: string
        }
        const [c] = yield* tx.query<Card>(
          `SELECT card_id, customer_id, currency, balance, available_credit, last_entry_no
       FROM cards.cards WHERE card_id = $1 AND status = 'active' FOR UPDATE`,
          [cardId]
        )
        if (!c) return "missing" as Outcome
        const { rng } = env
        const owed = BigInt(c.balance)
        const merchant = rng.pick(rng.weighted(cardSpending))
        const abroad = c.currency !== "USD" && rng.chance(0.1) ? "USD" : undefined
        const original = abroad ? money(env, rng.around(merchant.medianCents), abroad) : undefined
        const purchase =
          abroad && original !== undefined
            ? Number(Money.convert(env.units, BigInt(original), abroad, c.currency))
            : money(env, rng.around(merchant.medianCents), c.currency)
        // Mostly purchases; now and then a payment of part of what is owed.
        const paying = owed > 0n && rng.chance(0.15)
        const amount = paying ? -Number(Money.divRound(owed * BigInt(rng.int(10, 100)), 100n)) : purchase
        if (amount === 0) return "declined" as Outcome
        if (BigInt(c.available_credit) - BigInt(amount) < 0n) return "declined" as Outcome
        const balance = owed + BigInt(amount)
        const entryNo = BigInt(c.last_entry_no) + 1n
        yield* tx.query(
          `INSERT INTO cards.transactions (card_id, customer_id, entry_no, amount, currency, original_amount, original_currency,
         description, counterparty, category, running_balance, ${ENTRY}
       ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, ${NOW}`,
          [
            c.card_id,
            c.customer_id,
            String(entryNo),
            amount,
            c.currency,
            paying ? null : (original ?? null),
            paying ? null : (abroad ?? null),
            paying ? "Payment - thank you" : merchant.name,
            paying ? "Direct debit" : merchant.name,
            paying ? "card_payment" : merchant.category,
            String(balance)
          ]
        )
        yield* tx.query(
          `UPDATE cards.cards SET balance = $2, available_credit = available_credit - $3, last_entry_no = $4 WHERE card_id = $1`,
          [cardId, String(balance), amount, String(entryNo)]
        )
        return "booked" as Outcome
      })
    )
  )

export const lending = (_env: Env, loanId: number) =>
  Database.Database.use((db) =>
    db.transaction(
      Effect.fnUntraced(function* (tx) {
        type Loan = {
          loan_id: string
          customer_id: string
          currency: string
          outstanding: string
          interest_rate: string
          next_instalment_amount: string
          last_entry_no: string
        }
        const [l] = yield* tx.query<Loan>(
          `SELECT loan_id, customer_id, currency, outstanding, interest_rate::text, next_instalment_amount, last_entry_no
       FROM lending.loans WHERE loan_id = $1 AND status = 'active' FOR UPDATE`,
          [loanId]
        )
        if (!l) return "missing" as Outcome
        // The instalment falls due: the month's interest, then the annuity payment.
        const rate = Money.rateFromText(l.interest_rate)
        const interest = Money.monthlyInterest(BigInt(l.outstanding), rate)
        const owed = BigInt(l.outstanding) + interest
        const instalment = BigInt(l.next_instalment_amount)
        const repaid = instalment < owed ? instalment : owed
        const outstanding = owed - repaid
        let entryNo = BigInt(l.last_entry_no)
        const book = (
          amount: bigint,
          balance: bigint,
          description: string,
          counterparty: string | null,
          category: string
        ) =>
          tx.query(
            `INSERT INTO lending.transactions (loan_id, customer_id, entry_no, amount, currency, description, counterparty, category, running_balance, ${ENTRY}
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, ${NOW}`,
            [
              l.loan_id,
              l.customer_id,
              String(++entryNo),
              String(amount),
              l.currency,
              description,
              counterparty,
              category,
              String(balance)
            ]
          )
        if (interest > 0n) yield* book(interest, owed, "Interest", null, "interest")
        if (repaid > 0n) yield* book(-repaid, outstanding, "Instalment", "From current account", "loan_repayment")
        const nextAmount =
          outstanding === 0n
            ? 0n
            : (() => {
                const due = outstanding + Money.monthlyInterest(outstanding, rate)
                return instalment < due ? instalment : due
              })()
        yield* tx.query(
          `UPDATE lending.loans SET outstanding = $2, last_entry_no = $3, next_instalment_amount = $4,
         next_instalment_date = CASE WHEN $2::bigint = 0 THEN NULL ELSE (next_instalment_date + interval '1 month')::date END,
         status = CASE WHEN $2::bigint = 0 THEN 'repaid' ELSE status END
       WHERE loan_id = $1`,
          [loanId, String(outstanding), String(entryNo), String(nextAmount)]
        )
        return "booked" as Outcome
      })
    )
  )

const MICRO = 1_000_000n
const toMicro = (quantity: string) => {
  const [whole, fraction = ""] = quantity.split(".")
  return BigInt(whole!) * MICRO + BigInt(fraction.padEnd(6, "0").slice(0, 6))
}
const quantityText = (micro: bigint) => `${micro / MICRO}.${(micro % MICRO).toString().padStart(6, "0")}`

export const investments = (env: Env, accountId: number) =>
  Database.Database.use((db) =>
    db.transaction(
      Effect.fnUntraced(function* (tx) {
        type Account = {
          account_id: string
          customer_id: string
          currency: string
          cash_balance: string
          last_entry_no: string
        }
        const [a] = yield* tx.query<Account>(
          `SELECT account_id, customer_id, currency, cash_balance, last_entry_no
       FROM investments.accounts WHERE account_id = $1 AND status = 'open' FOR UPDATE`,
          [accountId]
        )
        if (!a) return "missing" as Outcome
        const holdings = yield* tx.query<{ isin: string; symbol: string; quantity: string; price: string }>(
          `SELECT h.isin, i.symbol, h.quantity::text, h.price FROM investments.holdings h JOIN investments.instruments i USING (isin)
       WHERE h.account_id = $1 ORDER BY h.isin`,
          [accountId]
        )
        const { rng } = env
        const cash = BigInt(a.cash_balance)
        const roll = rng.next()
        let amount: bigint
        let trade: { isin: string; units: bigint; price: bigint } | undefined
        let what: { description: string; counterparty: string | null; category: string }
        if (holdings.length === 0 || roll < 0.2) {
          amount = BigInt(money(env, rng.around(20_000), a.currency))
          what = { description: "Top-up", counterparty: null, category: "transfer_in" }
        } else {
          const h = rng.pick(holdings)
          // The market moved a little since the last trade: up to ±1 %.
          const last = BigInt(h.price)
          const price = last + Money.divRound(last * BigInt(rng.int(-100, 100)), 10_000n) || 1n
          const held = toMicro(h.quantity)
          const buying = roll < 0.75
          const wanted = BigInt(rng.int(1, 5)) * MICRO
          const units = buying || wanted < held ? wanted : held
          const value = Money.divRound(units * price, MICRO)
          if (value === 0n || (buying && value > cash)) return "declined" as Outcome
          amount = buying ? -value : value
          trade = { isin: h.isin, units, price }
          what = {
            description: `${buying ? "Buy" : "Sell"} ${h.symbol}`,
            counterparty: "Demo Exchange",
            category: buying ? "securities_buy" : "securities_sell"
          }
          if (!buying && units === held) {
            yield* tx.query("DELETE FROM investments.holdings WHERE account_id = $1 AND isin = $2", [accountId, h.isin])
          } else {
            const quantity = quantityText(buying ? held + units : held - units)
            yield* tx.query(
              `UPDATE investments.holdings SET quantity = $3::numeric, price = $4::bigint, market_value = round($3::numeric * $4::bigint), priced_at = now()
           WHERE account_id = $1 AND isin = $2`,
              [accountId, h.isin, quantity, String(price)]
            )
          }
        }
        const entryNo = BigInt(a.last_entry_no) + 1n
        const balance = cash + amount
        yield* tx.query(
          `INSERT INTO investments.transactions (account_id, customer_id, entry_no, amount, currency, description, counterparty, category,
         running_balance, isin, quantity, price, ${ENTRY}
       ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::numeric, $12, ${NOW}`,
          [
            a.account_id,
            a.customer_id,
            String(entryNo),
            String(amount),
            a.currency,
            what.description,
            what.counterparty,
            what.category,
            String(balance),
            trade?.isin ?? null,
            trade ? quantityText(trade.units) : null,
            trade ? String(trade.price) : null
          ]
        )
        yield* tx.query(
          `UPDATE investments.accounts SET cash_balance = $2, last_entry_no = $3,
         market_value = (SELECT COALESCE(sum(market_value), 0) FROM investments.holdings WHERE account_id = $1),
         valued_at = CASE WHEN $4 THEN now() ELSE valued_at END
       WHERE account_id = $1`,
          [accountId, String(balance), String(entryNo), trade !== undefined]
        )
        return "booked" as Outcome
      })
    )
  )

export const activities: Readonly<Record<System, (env: Env, id: number) => ReturnType<typeof deposits>>> = {
  deposits,
  cards,
  lending,
  investments
}
