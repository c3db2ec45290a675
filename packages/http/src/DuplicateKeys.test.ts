// firstDuplicateKey: the first key an object repeats, as a JSON Pointer; nothing for clean JSON.
import { describe, expect, it } from "vitest"
import { firstDuplicateKey } from "./DuplicateKeys.ts"

describe("firstDuplicateKey", () => {
  it("names the first repeated key, however deep, and only within one object", () => {
    expect(firstDuplicateKey('{"amount":"0.01","amount":"500.00"}')).toBe("/amount")
    expect(firstDuplicateKey('{"a":{"b":1,"c":{"d":1,"d":2}}}')).toBe("/a/c/d")
    expect(firstDuplicateKey('{"list":[{"x":1},{"x":2,"x":3}]}')).toBe("/list/1/x")
    expect(firstDuplicateKey('{"a\\"b":1,"a\\u0022b":2}')).toBe('/a"b')
    expect(firstDuplicateKey('{"a/b":1,"a/b":1}')).toBe("/a~1b")
  })

  it("finds none where there is none", () => {
    for (const text of [
      '{"a":1,"b":{"a":1}}',
      '[{"a":1},{"a":1}]',
      '"{\\"a\\":1,\\"a\\":2}"',
      '{"s":"a,\\"a\\":"}',
      "[]",
      "1"
    ]) {
      expect(firstDuplicateKey(text), text).toBeUndefined()
    }
  })
})
