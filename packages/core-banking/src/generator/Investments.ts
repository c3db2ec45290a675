// Brokerage and retirement accounts: positions held when the history starts, a monthly savings
// plan (cash in, then an ETF bought for it, fractional units allowed), occasional trades and
// dividends. Prices come from one price book per run, so every customer holding an
// instrument sees the same market. Quantities are kept in millionths of a unit, the scale of
// numeric(20,6), so every value is computed exactly and PostgreSQL's CHECK
// market_value = round(quantity * price) holds.
import { Money } from "@bank/records"
import { hashSeed, random } from "../Prng.ts"
import { type Instrument, instruments } from "./Catalogue.ts"
import { type CustomerContext, inCurrency, openedOn, type PriceBook, wealth } from "./Context.ts"
import { DAY, isoDate, isoTime, Ledger, monthlyDays, Timeline, type Window } from "./Ledger.ts"

const MICRO = 1_000_000n

/** Units as numeric(20,6) text: 12500000n is "12.500000". */
const quantityText = (micro: bigint) => `${micro / MICRO}.${(micro % MICRO).toString().padStart(6, "0")}`

const valueOf = (micro: bigint, price: number) => Number(Money.divRound(micro * BigInt(price), MICRO))

/** A daily random walk per instrument over the window, seeded by the run's seed and the ISIN. */
export const priceBook = (seed: string, window: Window): PriceBook => {
  const days = Math.ceil((window.end - window.start) / DAY) + 1
  const paths = new Map<string, Array<number>>()
  for (const instrument of instruments) {
    const rng = random(hashSeed(seed, "prices", instrument.isin))
    const path: Array<number> = []
    let price = instrument.basePrice
    for (let d = 0; d < days; d++) {
      // Daily move of up to ±1.5 %, in whole minor units, never below one.
      price = Math.max(1, price + Math.round(price * (rng.next() - 0.49) * 0.03))
      path.push(price)
    }
    paths.set(instrument.isin, path)
  }
  return {
    price: (isin, at) => {
      const path = paths.get(isin)!
      return path[Math.min(path.length - 1, Math.max(0, Math.floor((at - window.start) / DAY)))]!
    }
  }
}

export const investmentAccount = (ctx: CustomerContext, currency: string): void => {
  const { rng, window, prices } = ctx
  const accountId = ctx.ids.next("investmentAccounts")
  const opened = openedOn(ctx)
  const ledger = new Ledger(ctx.sink, ctx.ids, "investmentTransactions", accountId, ctx.customerId, currency, [
    null,
    null,
    null
  ])
  const timeline = new Timeline()
  const money = (eurCents: number) => inCurrency(ctx, Math.round(eurCents * wealth[ctx.segment]), currency)
  const available = instruments.filter((i) => i.currency === currency)
  const etfs = available.filter((i) => i.assetClass !== "equity")
  const held = new Map<string, bigint>()

  for (let n = rng.int(1, 4); n > 0; n--) {
    const instrument = rng.pick(available)
    const units =
      instrument.assetClass === "equity" ? BigInt(rng.int(5, 150)) * MICRO : BigInt(rng.int(1_000, 200_000)) * 1_000n
    held.set(instrument.isin, (held.get(instrument.isin) ?? 0n) + units)
  }
  ledger.open(window.start, money(rng.around(250_000, 0.8)))

  const buy = (at: number, instrument: Instrument, micro: bigint) => {
    const price = prices.price(instrument.isin, at)
    const cost = valueOf(micro, price)
    if (micro <= 0n || cost <= 0 || cost > ledger.balance) return // not enough cash: no trade
    held.set(instrument.isin, (held.get(instrument.isin) ?? 0n) + micro)
    ledger.post({
      at,
      amount: -cost,
      description: `Buy ${instrument.symbol}`,
      counterparty: "Demo Exchange",
      category: "securities_buy",
      extra: [instrument.isin, quantityText(micro), price]
    })
  }
  const sell = (at: number, instrument: Instrument, micro: bigint) => {
    const have = held.get(instrument.isin) ?? 0n
    const units = micro < have ? micro : have
    const price = prices.price(instrument.isin, at)
    const proceeds = valueOf(units, price)
    if (units <= 0n || proceeds <= 0) return
    if (units === have) held.delete(instrument.isin)
    else held.set(instrument.isin, have - units)
    ledger.post({
      at,
      amount: proceeds,
      description: `Sell ${instrument.symbol}`,
      counterparty: "Demo Exchange",
      category: "securities_sell",
      extra: [instrument.isin, quantityText(units), price]
    })
  }

  // Savings plan: a top-up on the plan day, and the ETF bought for it an hour later.
  if (etfs.length > 0 && rng.chance(0.6)) {
    const plan = money(rng.around(20_000, 0.4))
    const etf = rng.pick(etfs)
    for (const day of monthlyDays(window, rng.int(1, 10))) {
      const at = day + 8 * 3600 * 1000
      timeline.add(at, () =>
        ledger.post({
          at,
          amount: plan,
          description: "Savings plan top-up",
          counterparty: null,
          category: "transfer_in"
        })
      )
      const buyAt = at + 3600 * 1000
      // Whole thousandths of a unit for what the plan amount pays at the day's price.
      timeline.add(buyAt, () =>
        buy(buyAt, etf, ((BigInt(plan) * MICRO) / BigInt(prices.price(etf.isin, buyAt)) / 1_000n) * 1_000n)
      )
    }
  }
  for (const day of monthlyDays(window, rng.int(11, 28))) {
    const at = day + rng.int(9 * 3600, 17 * 3600) * 1000
    const instrument = rng.pick(available)
    const units = BigInt(rng.int(1, 20)) * MICRO
    if (rng.chance(0.25)) timeline.add(at, () => buy(at, instrument, units))
    else if (rng.chance(0.1)) timeline.add(at, () => sell(at, instrument, units))
    else if (rng.chance(0.3)) {
      timeline.add(at, () => {
        const units = held.get(instrument.isin)
        if (!units || instrument.assetClass !== "equity") return
        // A quarter's dividend of about 0.5 % of the position's value.
        const dividend = Math.floor(valueOf(units, prices.price(instrument.isin, at)) / 200)
        ledger.post({
          at,
          amount: dividend,
          description: `Dividend ${instrument.symbol}`,
          counterparty: instrument.name,
          category: "dividend"
        })
      })
    }
  }
  timeline.run()

  const pricedAt = window.end - DAY + 17.5 * 3600 * 1000
  let marketValue = 0
  for (const [isin, micro] of [...held].sort(([a], [b]) => a.localeCompare(b))) {
    const price = prices.price(isin, pricedAt)
    const value = valueOf(micro, price)
    marketValue += value
    ctx.sink.push("holdings", [
      accountId,
      isin,
      ctx.customerId,
      currency,
      quantityText(micro),
      price,
      value,
      isoTime(pricedAt),
      isoTime(pricedAt)
    ])
  }
  const createdAt = isoTime(opened + 11 * 3600 * 1000)
  const product = rng.chance(0.85) ? "brokerage" : "retirement"
  const name =
    product === "retirement"
      ? "Retirement account"
      : currency === "EUR"
        ? "Investment account"
        : `${currency} investment account`
  ctx.sink.push("investmentAccounts", [
    accountId,
    ctx.customerId,
    product,
    name,
    currency,
    ledger.balance,
    marketValue,
    isoTime(pricedAt),
    ledger.lastEntryNo,
    "open",
    isoDate(opened),
    createdAt,
    createdAt
  ])
}
