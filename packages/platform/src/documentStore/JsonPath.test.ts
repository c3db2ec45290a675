import { describe, expect, it } from "vitest"
import { format, native, parse, PathSyntaxError } from "./JsonPath.ts"

describe("JsonPath.parse", () => {
  it("reads the root, names, indexes and quoted keys", () => {
    expect(parse("$")).toEqual([])
    expect(parse("$.a.b")).toEqual(["a", "b"])
    expect(parse("$.accounts[0].balance")).toEqual(["accounts", 0, "balance"])
    expect(parse("$[12][0]")).toEqual([12, 0])
    expect(parse('$["key with.dots"]')).toEqual(["key with.dots"])
    expect(parse("$['single']")).toEqual(["single"])
    expect(parse("$._private.$ref")).toEqual(["_private", "$ref"])
  })

  it("keeps quoted keys that look like numbers or paths as keys", () => {
    expect(parse('$["0"]')).toEqual(["0"])
    expect(parse('$["a.b[0]"].c')).toEqual(["a.b[0]", "c"])
  })

  it("decodes JSON escapes in quoted keys, and \\' in single-quoted ones", () => {
    expect(parse('$["a\\"b"]')).toEqual(['a"b'])
    expect(parse('$["tab\\there"]')).toEqual(["tab\there"])
    expect(parse('$["\\u00e9"]')).toEqual(["é"])
    expect(parse("$['it\\'s']")).toEqual(["it's"])
    expect(parse(`$['say "hi"']`)).toEqual(['say "hi"'])
    expect(parse('$["😀 ключ"]')).toEqual(["😀 ключ"])
  })

  it.each([
    ["", "starts with $"],
    ["a.b", "starts with $"],
    ["$.", "expected a name"],
    ["$..a", "expected a name"],
    ["$.a.", "expected a name"],
    ["$.0", "expected a name"],
    ["$.a b", "unexpected"],
    ["$[", "expected an index"],
    ["$[-1]", "expected an index"],
    ["$[01]", "expected an index"],
    ["$[*]", "expected an index"],
    ["$[1:2]", "expected an index"],
    ["$[0", "expected an index"],
    ['$["open', "unterminated"],
    ['$["a"', "expected ]"],
    ['$["bad\\q"]', "bad escape"],
    ["$.a[?(@.x)]", "expected an index"]
  ])("refuses %j", (path, detail) => {
    expect(() => parse(path)).toThrow(PathSyntaxError)
    expect(() => parse(path)).toThrow(detail)
  })
})

describe("JsonPath.format and native", () => {
  it("write paths back that parse to the same segments", () => {
    for (const path of [[], ["a", 0, "b"], ["key with.dots", 'q"uote', "back\\slash", "ü", "$x", "0"]]) {
      expect(parse(format(path))).toEqual(path)
    }
  })

  it('writes RedisJSON paths with only \\" and \\\\ escaped', () => {
    expect(native([])).toBe("$")
    expect(native(["a", 0, "b_1"])).toBe("$.a[0].b_1")
    expect(native(["key with.dots", 'q"uote', "back\\slash", "ü"])).toBe(
      '$["key with.dots"]["q\\"uote"]["back\\\\slash"]["ü"]'
    )
  })
})
