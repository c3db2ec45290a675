// Credit cards with their history: purchases (some abroad, with the original amount and
// currency), refunds, a monthly statement, the payment that follows it, and interest when a
// statement was not paid in full. Purchases beyond the credit limit are declined.
import { Money } from "@bank/records"
import { cardSpending } from "./Catalogue.ts"
import { type CustomerContext, during, inCurrency, openedOn, someDay, wealth } from "./Context.ts"
import { addMonths, DAY, isoDate, isoTime, Ledger, monthlyDays, Timeline } from "./Ledger.ts"

const products = {
  classic: { limitCents: [150_000, 300_000], apr: [1690, 2190] },
  gold: { limitCents: [500_000, 1_000_000], apr: [1490, 1990] },
  platinum: { limitCents: [1_500_000, 3_000_000], apr: [1290, 1690] }
} as const

const DUE_AFTER_DAYS = 21
const foreignCurrencies = ["USD", "GBP", "CHF", "SEK", "PLN", "JPY"]

/** 3 % of what the statement says is owed, at least EUR 25 (or all of it when less). */
const minimumPayment = (ctx: CustomerContext, owed: number, currency: string): number =>
  owed <= 0
    ? 0
    : Math.min(owed, Math.max(inCurrency(ctx, 2_500, currency), Number(Money.divRound(BigInt(owed) * 3n, 100n))))

export const creditCard = (ctx: CustomerContext, currency: string): void => {
  const { rng, window } = ctx
  const cardId = ctx.ids.next("cards")
  const opened = openedOn(ctx)
  const product =
    ctx.segment === "private"
      ? "platinum"
      : ctx.segment === "premier"
        ? rng.pick(["gold", "platinum"] as const)
        : ctx.segment === "student"
          ? "classic"
          : rng.weighted([
              ["classic", 3],
              ["gold", 1]
            ] as const)
  const spec = products[product]
  const limit = inCurrency(ctx, rng.int(spec.limitCents[0] / 10_000, spec.limitCents[1] / 10_000) * 10_000, currency)
  const apr = BigInt(rng.int(spec.apr[0], spec.apr[1]) * 100)
  const ledger = new Ledger(ctx.sink, ctx.ids, "cardTransactions", cardId, ctx.customerId, currency, [null, null])
  const timeline = new Timeline()

  // Owed when the history starts: often nothing, else part of the limit.
  ledger.open(
    window.start,
    rng.chance(0.3) ? 0 : Math.min(Math.floor(limit * 0.8), Math.round(limit * 0.15 * rng.around(1, 0.7)))
  )
  const statementDay = rng.int(1, 28)
  const payer = rng.weighted([
    ["full", 6],
    ["minimum", 1],
    ["partial", 2]
  ] as const)
  // The statement before the window: what the first payment in the window settles.
  const before = addMonths(monthlyDays({ start: window.start, end: window.end + 40 * DAY }, statementDay)[0]!, -1)
  let statement = {
    date: before,
    owed: ledger.balance,
    minimum: minimumPayment(ctx, ledger.balance, currency),
    paid: 0
  }

  const schedulePayment = (dueDate: number) => {
    const at = during(ctx, dueDate - rng.int(0, 6) * DAY, 1, 6)
    if (at < window.start || at >= window.end) return
    timeline.add(at, () => {
      const { owed, minimum } = statement
      const wanted =
        payer === "full" ? owed : payer === "minimum" ? minimum : minimum + Math.floor((owed - minimum) * rng.next())
      const amount = Math.min(wanted, Math.max(0, ledger.balance))
      statement.paid += amount
      ledger.post({
        at,
        amount: -amount,
        description: "Payment - thank you",
        counterparty: "Direct debit",
        category: "card_payment"
      })
    })
  }
  schedulePayment(before + DUE_AFTER_DAYS * DAY)

  for (const day of monthlyDays(window, statementDay)) {
    const at = day + 23 * 3600 * 1000
    timeline.add(at, () => {
      // Interest on what the last statement asked for and was not paid by its due date.
      const unpaid = statement.owed - statement.paid
      if (unpaid > 0) {
        const interest = Number(Money.monthlyInterest(BigInt(unpaid), apr))
        if (ledger.balance + interest <= limit) {
          ledger.post({
            at,
            amount: interest,
            description: "Interest charge",
            counterparty: null,
            category: "interest"
          })
        }
      }
      statement = { date: day, owed: ledger.balance, minimum: minimumPayment(ctx, ledger.balance, currency), paid: 0 }
    })
    schedulePayment(day + DUE_AFTER_DAYS * DAY)
  }

  const months = Math.max(1, Math.round((window.end - window.start) / (30 * DAY)))
  for (let i = months * rng.int(6, 20); i > 0; i--) {
    const merchant = rng.pick(rng.weighted(cardSpending))
    const day = someDay(ctx)
    const at = during(ctx, day)
    const valueDate = Math.max(window.start, day - rng.int(0, 2) * DAY)
    const cents = Math.round(rng.around(merchant.medianCents) * Math.sqrt(wealth[ctx.segment]))
    const abroad = rng.chance(0.12) ? rng.pick(foreignCurrencies.filter((c) => c !== currency)) : undefined
    const original = abroad ? inCurrency(ctx, cents, abroad) : undefined
    const amount =
      abroad && original !== undefined
        ? Number(Money.convert(ctx.units, BigInt(original), abroad, currency))
        : inCurrency(ctx, cents, currency)
    let booked = false
    timeline.add(at, () => {
      if (amount <= 0 || ledger.balance + amount > limit) return // declined: over the limit
      booked = true
      ledger.post({
        at,
        amount,
        description: merchant.name,
        counterparty: merchant.name,
        category: merchant.category,
        valueDate,
        extra: abroad ? [original!, abroad] : [null, null]
      })
    })
    // Now and then the merchant refunds a purchase a few days later.
    const refundAt = rng.chance(0.03) ? during(ctx, day + rng.int(2, 10) * DAY) : window.end
    if (refundAt < window.end) {
      timeline.add(refundAt, () => {
        if (booked)
          ledger.post({
            at: refundAt,
            amount: -amount,
            description: `Refund ${merchant.name}`,
            counterparty: merchant.name,
            category: "refund"
          })
      })
    }
  }
  timeline.run()

  // A pending authorisation holds part of the remaining credit.
  const room = limit - ledger.balance
  const hold = room > 0 && rng.chance(0.2) ? Math.min(room, inCurrency(ctx, rng.around(4_000), currency)) : 0
  const due = statement.date + DUE_AFTER_DAYS * DAY
  const expires =
    addMonths(
      Date.UTC(new Date(window.end).getUTCFullYear(), new Date(window.end).getUTCMonth() + 1, 1),
      rng.int(6, 48)
    ) - DAY
  const createdAt = isoTime(opened + 10 * 3600 * 1000)
  ctx.sink.push("cards", [
    cardId,
    ctx.customerId,
    product,
    rng.pick(["visa", "mastercard"]),
    String(rng.int(0, 9999)).padStart(4, "0"),
    isoDate(expires),
    currency,
    limit,
    ledger.balance,
    limit - ledger.balance - hold,
    Money.rateToText(apr),
    isoDate(statement.date),
    statement.owed,
    statement.minimum,
    isoDate(due),
    ledger.lastEntryNo,
    "active",
    isoDate(opened),
    createdAt,
    createdAt
  ])
}
