// What every product generator gets for one customer, and the small helpers they share.
import { Money } from "@bank/records"
import type { Random } from "../Prng.ts"
import { DAY, type Ids, type Sink, type Window } from "./Ledger.ts"

export type Segment = "retail" | "premier" | "private" | "business" | "student"

/** Daily closing prices of every instrument over the window, minor units (see Investments.ts). */
export interface PriceBook {
  price(isin: string, at: number): number
}

export interface CustomerContext {
  readonly rng: Random
  readonly customerId: number
  readonly segment: Segment
  /** When the customer joined: products open after it. */
  readonly since: number
  readonly window: Window
  readonly units: Money.MinorUnits
  readonly ids: Ids
  readonly sink: Sink
  readonly prices: PriceBook
}

/** An amount given in EUR cents, in minor units of `currency` at the demo rates. */
export const inCurrency = (ctx: CustomerContext, eurCents: number, currency: string): number =>
  currency === "EUR" ? eurCents : Number(Money.convert(ctx.units, BigInt(eurCents), "EUR", currency))

/** How much money moves through a segment's accounts, relative to retail. */
export const wealth: Readonly<Record<Segment, number>> = {
  student: 0.35,
  retail: 1,
  business: 1.6,
  premier: 2.5,
  private: 6
}

/** A random moment in business-ish hours of the day that starts at `day`. */
export const during = (ctx: CustomerContext, day: number, fromHour = 7, toHour = 22): number =>
  day + ctx.rng.int(fromHour * 3600, toHour * 3600 - 1) * 1000

/** A random day in the window, at midnight. */
export const someDay = (ctx: CustomerContext): number => {
  const days = Math.round((ctx.window.end - ctx.window.start) / DAY)
  return ctx.window.start + ctx.rng.int(0, days - 1) * DAY
}

/** A product's opening date: after the customer joined, before the window starts. */
export const openedOn = (ctx: CustomerContext): number => {
  const span = Math.max(1, Math.floor((ctx.window.start - ctx.since) / DAY))
  return ctx.since + ctx.rng.int(0, span - 1) * DAY
}

const mod97 = (digits: string): number => {
  let rest = 0
  for (let i = 0; i < digits.length; i += 7) rest = Number(String(rest) + digits.slice(i, i + 7)) % 97
  return rest
}

/**
 * A valid German IBAN (ISO 13616 check digits) for account `n` at a fictitious bank code, so
 * IBAN validators accept it while no real account can match.
 */
export const iban = (n: number): string => {
  const bban = `99990000${String(n).padStart(10, "0")}`
  const check = 98 - mod97(`${bban}131400`) // "DE" = 13 14, then "00"
  return `DE${String(check).padStart(2, "0")}${bban}`
}
