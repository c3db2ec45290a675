// Personal loans and mortgages, repaid by monthly annuity: on each instalment date the month's
// interest is booked (raising what is owed) and then the instalment (lowering it). The loan
// is amortised exactly from its start, so the history in the window begins with what was
// really outstanding then.
import { Money } from "@bank/records"
import { type CustomerContext, inCurrency, wealth } from "./Context.ts"
import { addMonths, isoDate, isoTime, Ledger, startOfDay } from "./Ledger.ts"

const products = {
  personal: { principalCents: 1_500_000, term: [24, 84], rate: [490, 1190] },
  mortgage: { principalCents: 28_000_000, term: [180, 360], rate: [250, 475] }
} as const

export const loan = (ctx: CustomerContext, product: "personal" | "mortgage", currency: string): void => {
  const { rng, window } = ctx
  const loanId = ctx.ids.next("loans")
  const spec = products[product]
  const principal = inCurrency(
    ctx,
    Math.round((rng.around(spec.principalCents, 0.4) * Math.sqrt(wealth[ctx.segment])) / 10_000) * 10_000,
    currency
  )
  const term = rng.int(spec.term[0] / 12, spec.term[1] / 12) * 12
  // Annual rate in ten-thousandths of a percent, in steps of 0.01 %.
  const rate = BigInt(rng.int(spec.rate[0], spec.rate[1]) * 100)
  const instalment = Money.annuity(BigInt(principal), rate, term)
  // Started between a month and (term - 1) months before the as-of date, on a day 1-28.
  const monthsAgo = rng.int(1, Math.min(term - 1, 12 * 12))
  const anchor = addMonths(window.end, -monthsAgo)
  const start = Date.UTC(new Date(anchor).getUTCFullYear(), new Date(anchor).getUTCMonth(), rng.int(1, 28))
  const ledger = new Ledger(ctx.sink, ctx.ids, "loanTransactions", loanId, ctx.customerId, currency)
  const disbursedAt = start + 10 * 3600 * 1000

  let outstanding = BigInt(principal)
  if (start >= window.start) {
    ledger.post({
      at: disbursedAt,
      amount: principal,
      description: "Loan disbursement",
      counterparty: null,
      category: "loan_disbursement"
    })
  }
  let opened = start >= window.start
  let next: number | undefined
  for (let k = 1; k <= term; k++) {
    const due = addMonths(start, k)
    if (due >= window.end) {
      next = due
      break
    }
    if (!opened && due >= window.start) {
      ledger.open(window.start, Number(outstanding))
      opened = true
    }
    const interest = Money.monthlyInterest(outstanding, rate)
    const repaid = instalment < outstanding + interest ? instalment : outstanding + interest
    outstanding += interest - repaid
    if (due >= window.start) {
      const at = due + 2 * 3600 * 1000
      ledger.post({ at, amount: Number(interest), description: "Interest", counterparty: null, category: "interest" })
      ledger.post({
        at,
        amount: -Number(repaid),
        description: `Instalment ${k} of ${term}`,
        counterparty: "From current account",
        category: "loan_repayment"
      })
    }
    if (outstanding === 0n) break
  }
  if (!opened) ledger.open(window.start, Number(outstanding))

  const active = outstanding > 0n && next !== undefined
  const nextAmount = active
    ? instalment < outstanding + Money.monthlyInterest(outstanding, rate)
      ? instalment
      : outstanding + Money.monthlyInterest(outstanding, rate)
    : 0n
  const createdAt = isoTime(startOfDay(start) + 9 * 3600 * 1000)
  ctx.sink.push("loans", [
    loanId,
    ctx.customerId,
    product,
    currency,
    principal,
    Number(outstanding),
    Money.rateToText(rate),
    term,
    isoDate(start),
    isoDate(addMonths(start, term)),
    active ? isoDate(next!) : null,
    Number(nextAmount),
    ledger.lastEntryNo,
    active ? "active" : "repaid",
    createdAt,
    createdAt
  ])
}
