import { describe, expect, it } from "vitest"
import { annuity, convert, divRound, monthlyInterest, rateFromText, rateToText } from "./Money.ts"

const units = new Map([["EUR", 2], ["JPY", 0], ["KWD", 3], ["USD", 2]])

describe("Money", () => {
  it("rounds half away from zero, for debits as for credits", () => {
    expect(divRound(5n, 2n)).toBe(3n)
    expect(divRound(-5n, 2n)).toBe(-3n)
    expect(divRound(4n, 3n)).toBe(1n)
    expect(divRound(-4n, 3n)).toBe(-1n)
  })

  it("converts between currencies with different minor units exactly", () => {
    // EUR 12.34 at 160 JPY/EUR is JPY 1974.4, so 1974 yen (no minor unit).
    expect(convert(units, 1234n, "EUR", "JPY")).toBe(1974n)
    // EUR 12.34 at 0.33 KWD/EUR is KWD 4.0722, so 4.072 (three decimals).
    expect(convert(units, 1234n, "EUR", "KWD")).toBe(4072n)
    expect(convert(units, 1974n, "JPY", "EUR")).toBe(1234n)
    expect(() => convert(units, 1n, "EUR", "XYZ")).toThrow(/unknown currency/)
  })

  it("reads and prints rates as PostgreSQL's numeric(7,4) does", () => {
    expect(rateFromText("3.875")).toBe(38_750n)
    expect(rateToText(rateFromText("0.0500"))).toBe("0.0500")
    expect(rateToText(-2_500n)).toBe("-0.2500")
    expect(() => rateFromText("3,5")).toThrow()
  })

  it("computes a month's interest and a textbook annuity to the cent", () => {
    // EUR 10,000 at 6 % a year: EUR 50.00 interest in a month.
    expect(monthlyInterest(1_000_000n, rateFromText("6"))).toBe(5_000n)
    // EUR 100,000 over 12 months at 5 %: 8,560.748... a month, rounded up to 8,560.75.
    expect(annuity(10_000_000n, rateFromText("5"), 12)).toBe(856_075n)
    expect(annuity(1_200n, 0n, 12)).toBe(100n)
  })
})
