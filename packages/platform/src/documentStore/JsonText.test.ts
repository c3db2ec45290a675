import { describe, expect, it } from "vitest"
import { decimal, type Json, JsonValueError, stringify } from "./JsonText.ts"

describe("JsonText.stringify", () => {
  it("writes what JSON.stringify writes for plain values", () => {
    const value = { a: [1, -2.5, 'x\n"y"', true, null, {}, []], 'k.e"y': { nested: "ü😀" }, skip: undefined }
    expect(stringify(value)).toBe(JSON.stringify(value))
    expect(stringify({ when: new Date(0) } as unknown as Json)).toBe('{"when":"1970-01-01T00:00:00.000Z"}')
  })

  it("writes bigints as exact JSON numbers", () => {
    expect(stringify({ v: 12345678901234567n, list: [2n ** 64n + 1n, -99999999999999999999n] })).toBe(
      '{"v":12345678901234567,"list":[18446744073709551617,-99999999999999999999]}'
    )
  })

  it("refuses bigints beyond int64 when asked to (RedisJSON keeps only those exactly)", () => {
    expect(stringify({ v: 2n ** 63n - 1n }, { int64: true })).toBe('{"v":9223372036854775807}')
    expect(() => stringify({ v: 2n ** 63n }, { int64: true })).toThrow(
      /\$\.v: 9223372036854775808 does not fit 64 bits/
    )
    expect(() => stringify([-(2n ** 63n) - 1n], { int64: true })).toThrow(JsonValueError)
  })

  it("refuses what JSON cannot hold", () => {
    expect(() => stringify({ a: [1, Number.NaN] })).toThrow(/\$\.a\[1\]: NaN is not a JSON number/)
    expect(() => stringify(Number.POSITIVE_INFINITY)).toThrow(JsonValueError)
    expect(() => stringify({ f: (() => 1) as never })).toThrow(/a function is not a JSON value/)
  })
})

describe("JsonText.decimal", () => {
  it.each([
    [1, "1"],
    [-12, "-12"],
    [0.05, "0.05"],
    [1e21, "1000000000000000000000"],
    [1.5e-7, "0.00000015"],
    [-0, "0"],
    [12345678901234567n, "12345678901234567"],
    ["99999999999999999999", "99999999999999999999"],
    ["12.50", "12.50"],
    ["-0.000", "0.000"],
    ["2.5E+3", "2500"],
    ["-7e-2", "-0.07"]
  ])("writes %s as %s", (by, text) => {
    expect(decimal(by)).toBe(text)
  })

  it.each([["1,5"], ["abc"], [""], ["1e999999"], [Number.NaN], ["0x10"], [" 1"]])("refuses %j", (by) => {
    expect(() => decimal(by)).toThrow(JsonValueError)
  })
})
