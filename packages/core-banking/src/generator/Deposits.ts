// Current and savings accounts with their history: salary in, rent and bills out, everyday
// card spending, standing orders into savings, monthly interest. Debits that the account
// cannot cover (balance + overdraft) are declined, as the bank would, so no entry ever takes
// the account below its overdraft limit.
import { Money } from "@bank/records"
import { employers, everydaySpending, insurers, landlords, subscriptions, utilities } from "./Catalogue.ts"
import { type CustomerContext, during, iban, inCurrency, openedOn, someDay, wealth } from "./Context.ts"
import { DAY, isoDate, isoTime, Ledger, monthlyDays, Timeline } from "./Ledger.ts"

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December"
]
const monthName = (ms: number) => `${MONTHS[new Date(ms).getUTCMonth()]} ${new Date(ms).getUTCFullYear()}`

const account = (ctx: CustomerContext, product: "current" | "savings", currency: string) => {
  const accountId = ctx.ids.next("depositAccounts")
  const ledger = new Ledger(ctx.sink, ctx.ids, "depositTransactions", accountId, ctx.customerId, currency)
  return { accountId, ledger, opened: openedOn(ctx) }
}

const finish = (
  ctx: CustomerContext,
  a: ReturnType<typeof account>,
  fields: { product: string; name: string; currency: string; overdraft: number; rate: bigint; hold: number }
) => {
  const { ledger } = a
  const available = ledger.balance + fields.overdraft - fields.hold
  const createdAt = isoTime(a.opened + 9 * 3600 * 1000)
  ctx.sink.push("depositAccounts", [
    a.accountId,
    ctx.customerId,
    iban(a.accountId),
    fields.product,
    fields.name,
    fields.currency,
    ledger.balance,
    available,
    fields.overdraft,
    Money.rateToText(fields.rate),
    ledger.lastEntryNo,
    "open",
    isoDate(a.opened),
    createdAt,
    createdAt
  ])
}

export const currentAccount = (ctx: CustomerContext, currency: string, primary: boolean): void => {
  const { rng, window } = ctx
  const a = account(ctx, "current", currency)
  const money = (eurCents: number) => inCurrency(ctx, Math.round(eurCents * wealth[ctx.segment]), currency)
  const overdraft = primary ? money(rng.pick([0, 0, 50_000, 100_000, 200_000])) : 0
  const timeline = new Timeline()
  const debit = (
    at: number,
    cents: number,
    description: string,
    counterparty: string | null,
    category: string,
    valueDate?: number
  ) =>
    timeline.add(at, () => {
      // Declined when not covered: the account never goes below its overdraft limit.
      if (a.ledger.balance - cents < -overdraft) return
      a.ledger.post({
        at,
        amount: -cents,
        description,
        counterparty,
        category,
        ...(valueDate !== undefined ? { valueDate } : {})
      })
    })
  const credit = (at: number, cents: number, description: string, counterparty: string | null, category: string) =>
    timeline.add(at, () => a.ledger.post({ at, amount: cents, description, counterparty, category }))

  a.ledger.open(window.start, money(rng.around(150_000)))
  if (primary) {
    const salary = money(rng.around(280_000, 0.3))
    const employer = rng.pick(employers)
    const rent = Math.round(salary * (0.2 + rng.next() * 0.15))
    const landlord = rng.pick(landlords)
    const paysRent = rng.chance(0.6)
    const bills = rng.int(1, 3)
    const subscribed = [rng.pick(subscriptions), rng.pick(subscriptions)].slice(0, rng.int(0, 2))
    const insurer = rng.pick(insurers)
    for (const day of monthlyDays(window, rng.int(25, 28))) {
      credit(during(ctx, day, 1, 6), salary, `Salary ${monthName(day)}`, employer, "salary")
    }
    for (const day of monthlyDays(window, rng.int(1, 3))) {
      if (paysRent) debit(during(ctx, day, 1, 6), rent, `Rent ${monthName(day)}`, landlord, "rent")
      debit(during(ctx, day, 1, 6), money(rng.around(4_500, 0.2)), "Monthly premium", insurer, "insurance")
      if (ctx.segment === "retail" || ctx.segment === "business") {
        debit(
          during(ctx, day, 0, 1),
          inCurrency(ctx, ctx.segment === "business" ? 1_490 : 490, currency),
          "Account fee",
          null,
          "fees"
        )
      }
    }
    for (let b = 0; b < bills; b++) {
      const utility = rng.pick(utilities)
      const amount = money(rng.around(utility.medianCents, 0.25))
      for (const day of monthlyDays(window, rng.int(4, 20)))
        debit(during(ctx, day), amount, utility.name, utility.name, "utilities")
    }
    for (const service of subscribed) {
      for (const day of monthlyDays(window, rng.int(1, 28)))
        debit(during(ctx, day), money(service.medianCents), service.name, service.name, "subscriptions")
    }
  }
  // Everyday debit-card spending: most of the entries, on random days.
  const months = Math.max(1, Math.round((window.end - window.start) / (30 * DAY)))
  const purchases = months * (primary ? rng.int(18, 32) : rng.int(2, 6))
  for (let i = 0; i < purchases; i++) {
    const merchant = rng.pick(rng.weighted(everydaySpending))
    const day = someDay(ctx)
    const booked = during(ctx, day)
    // Card payments settle a day or two after the purchase; the value date is the purchase day.
    const valueDate = Math.max(window.start, day - rng.int(0, 2) * DAY)
    debit(booked, money(rng.around(merchant.medianCents)), merchant.name, merchant.name, merchant.category, valueDate)
  }
  for (let i = rng.int(0, months * 2); i > 0; i--) {
    credit(
      during(ctx, someDay(ctx)),
      money(rng.around(8_000)),
      "Transfer",
      rng.pick(["J. Doe", "Family account", "Flatmate share", "Refund from friend"]),
      "transfer_in"
    )
  }
  timeline.run()
  // A pending card authorisation holds part of what is available.
  const room = a.ledger.balance + overdraft
  const hold = room > 0 && rng.chance(0.25) ? Math.min(room, money(rng.around(3_000))) : 0
  const name = primary ? "Current account" : `${currency} current account`
  finish(ctx, a, { product: "current", name, currency, overdraft, rate: 0n, hold })
}

export const savingsAccount = (ctx: CustomerContext, currency: string): void => {
  const { rng, window } = ctx
  const a = account(ctx, "savings", currency)
  const money = (eurCents: number) => inCurrency(ctx, Math.round(eurCents * wealth[ctx.segment]), currency)
  // Annual rate in ten-thousandths of a percent, in steps of 0.05 %.
  const rate = BigInt(rng.int(2, 70) * 500)
  const timeline = new Timeline()
  a.ledger.open(window.start, money(rng.around(900_000, 0.9)))
  const standingOrder = rng.chance(0.65) ? money(rng.around(25_000)) : 0
  for (const day of monthlyDays(window, rng.int(1, 5))) {
    const at = during(ctx, day, 1, 6)
    if (standingOrder > 0) {
      timeline.add(at, () =>
        a.ledger.post({
          at,
          amount: standingOrder,
          description: "Standing order from current account",
          counterparty: null,
          category: "transfer_in"
        })
      )
    }
  }
  for (const day of monthlyDays(window, 1)) {
    // Interest for the month before, credited on the 1st with value date the month's last day.
    const at = day + 3600 * 1000
    timeline.add(at, () =>
      a.ledger.post({
        at,
        amount: Number(Money.monthlyInterest(BigInt(a.ledger.balance), rate)),
        description: "Interest",
        counterparty: null,
        category: "interest",
        valueDate: day - DAY
      })
    )
  }
  if (rng.chance(0.2)) {
    const at = during(ctx, someDay(ctx))
    timeline.add(at, () => {
      const amount = Math.floor(a.ledger.balance * rng.next() * 0.5)
      a.ledger.post({
        at,
        amount: -amount,
        description: "Transfer to current account",
        counterparty: null,
        category: "transfer_out"
      })
    })
  }
  timeline.run()
  const name = currency === "EUR" ? "Savings account" : `${currency} savings account`
  finish(ctx, a, { product: "savings", name, currency, overdraft: 0, rate, hold: 0 })
}
