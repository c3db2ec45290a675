// Exact money arithmetic. An amount is an integer count of its currency's minor unit (bigint in
// PostgreSQL, a safe integer or bigint here); nothing is ever a float. Conversions and interest
// are computed in bigint and rounded once, half away from zero, like a ledger would.

/** Decimals per currency, as in `ref.currencies` (ISO 4217 minor-unit exponent). */
export type MinorUnits = ReadonlyMap<string, number>

/**
 * The exponent of each currency the bank holds, as `ref.currencies` (001_reference.sql) lists
 * them; Migrations.int.test.ts checks the two agree. Kept in code so pure functions (the
 * dashboard projection) can format money without a database round trip.
 */
export const currencyExponents: MinorUnits = new Map([
  ["EUR", 2],
  ["USD", 2],
  ["GBP", 2],
  ["CHF", 2],
  ["SEK", 2],
  ["PLN", 2],
  ["JPY", 0],
  ["KWD", 3],
  ["BHD", 3]
])

/**
 * Money as every API document shows it (the Berlin Group / UK Open Banking convention): a
 * decimal string with exactly the currency's decimals, and the ISO 4217 code. `-12.50` EUR.
 */
export interface MoneyView {
  readonly amount: string
  readonly currency: string
}

/** Minor units of `currency` as a MoneyView; undefined for a currency we do not know. */
export const moneyView = (
  minor: bigint,
  currency: string,
  units: MinorUnits = currencyExponents
): MoneyView | undefined => {
  const exponent = units.get(currency)
  return exponent === undefined ? undefined : { amount: minorToText(minor, exponent), currency }
}

/** a / b rounded half away from zero. */
export const divRound = (a: bigint, b: bigint): bigint => {
  if (b === 0n) throw new RangeError("division by zero")
  const negative = a < 0n !== b < 0n
  const absA = a < 0n ? -a : a
  const absB = b < 0n ? -b : b
  const q = (absA * 2n + absB) / (absB * 2n)
  return negative ? -q : q
}

/**
 * Demonstration exchange rates: units of the currency per 1 EUR, in millionths (1.08 USD per
 * EUR is 1_080_000). Fixed, so generated data stays reproducible; a real system reads a rate feed.
 */
export const demoRatesPerEur: ReadonlyMap<string, bigint> = new Map([
  ["EUR", 1_000_000n],
  ["USD", 1_080_000n],
  ["GBP", 850_000n],
  ["CHF", 950_000n],
  ["SEK", 11_500_000n],
  ["PLN", 4_300_000n],
  ["JPY", 160_000_000n],
  ["KWD", 330_000n],
  ["BHD", 405_000n]
])

const exponentOf = (units: MinorUnits, currency: string): bigint => {
  const exponent = units.get(currency)
  if (exponent === undefined) throw new RangeError(`unknown currency ${currency}`)
  return BigInt(exponent)
}

const rateOf = (currency: string): bigint => {
  const rate = demoRatesPerEur.get(currency)
  if (rate === undefined) throw new RangeError(`no demo rate for ${currency}`)
  return rate
}

/** Converts minor units of `from` into minor units of `to` at the demo rates. */
export const convert = (units: MinorUnits, amount: bigint, from: string, to: string): bigint => {
  if (from === to) return amount
  const shift = exponentOf(units, to) - exponentOf(units, from)
  const numerator = amount * rateOf(to) * (shift > 0n ? 10n ** shift : 1n)
  const denominator = rateOf(from) * (shift < 0n ? 10n ** -shift : 1n)
  return divRound(numerator, denominator)
}

/** An annual percentage rate with up to four decimals ("3.8750"), as ten-thousandths of a percent. */
export const rateFromText = (rate: string): bigint => {
  const match = /^(-?)(\d+)(?:\.(\d{1,4}))?$/.exec(rate)
  if (!match) throw new RangeError(`not a rate: ${rate}`)
  const value = BigInt(match[2]!) * 10_000n + BigInt((match[3] ?? "").padEnd(4, "0"))
  return match[1] === "-" ? -value : value
}

/** The inverse of `rateFromText`: 38750n is "3.8750", as PostgreSQL prints numeric(7,4). */
export const rateToText = (rate: bigint): string => {
  const negative = rate < 0n
  const abs = negative ? -rate : rate
  return `${negative ? "-" : ""}${abs / 10_000n}.${(abs % 10_000n).toString().padStart(4, "0")}`
}

// Rates are in ten-thousandths of a percent: 100 % a year is 1_000_000, and a month is 1/12 of that.
const PER_YEAR = 1_000_000n
const PER_MONTH = PER_YEAR * 12n

/** One month's interest on `balance` at the annual `rate` (ten-thousandths of a percent). */
export const monthlyInterest = (balance: bigint, rate: bigint): bigint => divRound(balance * rate, PER_MONTH)

/**
 * The monthly annuity that repays `principal` over `months` at the annual `rate`:
 * P·i·(1+i)^n / ((1+i)^n − 1) with i = rate/12, in 36-decimal fixed point, rounded up to the
 * minor unit so the last instalment is never larger than the others.
 */
export const annuity = (principal: bigint, rate: bigint, months: number): bigint => {
  if (months <= 0) throw new RangeError("a loan needs at least one month")
  const n = BigInt(months)
  if (rate === 0n) return (principal + n - 1n) / n
  const ONE = 10n ** 36n
  const i = (rate * ONE) / PER_MONTH
  let growth = ONE
  let base = ONE + i
  for (let e = months; e > 0; e >>= 1) {
    if (e & 1) growth = (growth * base) / ONE
    base = (base * base) / ONE
  }
  const numerator = principal * i * growth
  const denominator = (growth - ONE) * ONE
  return (numerator + denominator - 1n) / denominator
}

/** The largest amount a PostgreSQL bigint column holds. */
const MAX_MINOR = 2n ** 63n - 1n

/**
 * Reads a decimal amount as clients send it ("12.50", "-0.5", "1500") into minor units of a
 * currency with `exponent` decimals, exactly: no float on the way. At most `exponent` decimals
 * ("12.5" is 1250 in EUR, "12.505" is refused), no exponent notation, no leading zeros, no "+".
 * Throws a RangeError saying what is wrong.
 */
export const minorFromText = (text: string, exponent: number): bigint => {
  const match = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/.exec(text)
  if (!match) throw new RangeError("must be a decimal number such as 12.50")
  const decimals = match[3] ?? ""
  if (decimals.length > exponent) {
    throw new RangeError(
      exponent === 0 ? "must be a whole number in this currency" : `has more than ${exponent} decimals`
    )
  }
  const magnitude = BigInt(match[2]! + decimals.padEnd(exponent, "0"))
  if (magnitude > MAX_MINOR) throw new RangeError("is too large")
  return match[1] === "-" ? -magnitude : magnitude
}

/** Minor units as a decimal string with the currency's decimals: 1250n in EUR is "12.50". */
export const minorToText = (minor: bigint, exponent: number): string => {
  const negative = minor < 0n
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, "0")
  const whole = digits.slice(0, digits.length - exponent)
  return `${negative ? "-" : ""}${whole}${exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : ""}`
}
