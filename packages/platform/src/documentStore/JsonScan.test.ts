import { describe, expect, it } from "vitest"
import type { Path } from "./JsonPath.ts"
import { CorruptJsonError, valueAt } from "./JsonScan.ts"

const doc = {
  s: 'quote " backslash \\ end\\',
  brackets: "]}{[",
  'key "with" quotes\\': { deep: [1, { x: "}" }, []] },
  list: [0, -1.5e3, true, null, "a,b", { "": "empty key" }, [[]]],
  big: 1,
  "ü😀": "unicode"
}
const text = JSON.stringify(doc).replace('"big":1', '"big":12345678901234567890')

// Every place in `value`, with its path.
const places = (value: unknown, path: Path = []): Array<[Path, unknown]> => {
  const here: Array<[Path, unknown]> = [[path, value]]
  if (Array.isArray(value)) return here.concat(...value.map((v, i) => places(v, [...path, i])))
  if (value !== null && typeof value === "object") {
    return here.concat(...Object.entries(value).map(([k, v]) => places(v, [...path, k])))
  }
  return here
}

describe("JsonScan.valueAt", () => {
  it("finds every value of a document, as JSON.parse sees it", () => {
    const parsed = JSON.parse(text) as unknown
    for (const [path, value] of places(parsed)) {
      expect(JSON.parse(valueAt(text, path)!)).toEqual(value)
    }
  })

  it("returns the stored text untouched, exact numbers and spacing included", () => {
    expect(valueAt(text, ["big"])).toBe("12345678901234567890")
    expect(valueAt(' { "a" : [ 1 , 2.50 ] } ', ["a"])).toBe("[ 1 , 2.50 ]")
    expect(valueAt(' { "a" : [ 1 , 2.50 ] } ', ["a", 1])).toBe("2.50")
    expect(valueAt("[[],{}]", [])).toBe("[[],{}]")
  })

  it("answers undefined where there is nothing", () => {
    expect(valueAt(text, ["missing"])).toBeUndefined()
    expect(valueAt(text, ["list", 7])).toBeUndefined()
    expect(valueAt(text, ["list", "0"])).toBeUndefined()
    expect(valueAt(text, ["big", "x"])).toBeUndefined()
    expect(valueAt(text, [0])).toBeUndefined()
    expect(valueAt("[]", [0])).toBeUndefined()
    expect(valueAt("{}", ["a"])).toBeUndefined()
  })

  it("takes the last of repeated keys, as JSON.parse does", () => {
    expect(valueAt('{"a":1,"b":2,"a":3}', ["a"])).toBe("3")
  })

  it.each(['{"a":', '{"a" 1}', '{"a":1', '["x]', "{a:1}"])("refuses the broken text %j", (broken) => {
    expect(() => valueAt(broken, ["a"])).toThrow(CorruptJsonError)
  })
})
