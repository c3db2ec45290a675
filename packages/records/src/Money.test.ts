import { describe, expect, it } from "vitest"
import {
  annuity,
  convert,
  divRound,
  minorFromText,
  minorToText,
  monthlyInterest,
  rateFromText,
  rateToText
} from "./Money.ts"

const units = new Map([
  ["EUR", 2],
  ["JPY", 0],
  ["KWD", 3],
  ["USD", 2]
])

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

  it("reads decimal amounts into minor units exactly, with the currency's decimals", () => {
    expect(minorFromText("12.50", 2)).toBe(1250n)
    expect(minorFromText("12.5", 2)).toBe(1250n)
    expect(minorFromText("0.01", 2)).toBe(1n)
    expect(minorFromText("-0.05", 2)).toBe(-5n)
    expect(minorFromText("1500", 0)).toBe(1500n)
    expect(minorFromText("1.234", 3)).toBe(1234n)
    // 0.1 + 0.2 is not 0.3 in floating point; here nothing is a float.
    expect(minorFromText("0.3", 2)).toBe(minorFromText("0.1", 2) + minorFromText("0.2", 2))
    expect(minorFromText("92233720368547758.07", 2)).toBe(2n ** 63n - 1n)
    expect(() => minorFromText("92233720368547758.08", 2)).toThrow(/too large/)
    expect(() => minorFromText("12.505", 2)).toThrow(/more than 2 decimals/)
    expect(() => minorFromText("1500.5", 0)).toThrow(/whole number/)
    for (const bad of ["", "12,50", "1e3", "+1", "012", ".5", "5.", " 5", "0x10", "Infinity", "NaN", "--1"]) {
      expect(() => minorFromText(bad, 2), bad).toThrow(/decimal number/)
    }
  })

  it("prints minor units with the currency's decimals", () => {
    expect(minorToText(1250n, 2)).toBe("12.50")
    expect(minorToText(5n, 2)).toBe("0.05")
    expect(minorToText(-5n, 2)).toBe("-0.05")
    expect(minorToText(0n, 3)).toBe("0.000")
    expect(minorToText(1500n, 0)).toBe("1500")
    expect(minorToText(2n ** 63n - 1n, 2)).toBe("92233720368547758.07")
    for (const text of ["12.50", "-0.01", "1.234"])
      expect(minorToText(minorFromText(text, text.split(".")[1]!.length), text.split(".")[1]!.length)).toBe(text)
  })
})
