// Finding the text of one value inside JSON text without parsing the rest. The lua backend
// reads a path by fetching the document with a plain GET and scanning it here, so reads cost
// Redis one GET (the edge scales out; Redis does not) and the value comes back byte for byte,
// exact numbers included.
import type { Path } from "./JsonPath.ts"

export class CorruptJsonError extends Error {}

const QUOTE = 34
const BACKSLASH = 92
const LBRACE = 123
const RBRACE = 125
const LBRACK = 91
const RBRACK = 93
const COMMA = 44
const COLON = 58

const corrupt = (what: string, at: number): never => {
  throw new CorruptJsonError(`stored text is not valid JSON: ${what} at ${at}`)
}

const isBlank = (c: number) => c === 32 || c === 10 || c === 13 || c === 9

const skipBlank = (text: string, i: number): number => {
  while (isBlank(text.charCodeAt(i))) i++
  return i
}

// i is at an opening quote; returns the index of the closing one.
const stringEnd = (text: string, i: number): number => {
  let j = i
  for (;;) {
    j = text.indexOf('"', j + 1)
    if (j < 0) return corrupt("unterminated string", i)
    let backslashes = 0
    while (text.charCodeAt(j - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return j
  }
}

// i is at the first character of a value; returns the index of its last character.
const valueEnd = (text: string, i: number): number => {
  const c = text.charCodeAt(i)
  if (c === QUOTE) return stringEnd(text, i)
  if (c === LBRACE || c === LBRACK) {
    let depth = 0
    for (let j = i; j < text.length; j++) {
      const d = text.charCodeAt(j)
      if (d === QUOTE) j = stringEnd(text, j)
      else if (d === LBRACE || d === LBRACK) depth++
      else if (d === RBRACE || d === RBRACK) {
        if (--depth === 0) return j
      }
    }
    return corrupt("unterminated container", i)
  }
  let j = i
  while (j < text.length) {
    const d = text.charCodeAt(j)
    if (d === COMMA || d === RBRACE || d === RBRACK || isBlank(d)) break
    j++
  }
  return j === i ? corrupt("missing value", i) : j - 1
}

// Calls visit(slot, start, end) for each child of the container at i; stops when it returns true.
const eachChild = (
  text: string,
  i: number,
  visit: (slot: string | number, start: number, end: number) => boolean
): void => {
  const array = text.charCodeAt(i) === LBRACK
  const close = array ? RBRACK : RBRACE
  let j = skipBlank(text, i + 1)
  if (text.charCodeAt(j) === close) return
  for (let index = 0; ; index++) {
    let slot: string | number = index
    if (!array) {
      if (text.charCodeAt(j) !== QUOTE) corrupt("expected a key", j)
      const keyEnd = stringEnd(text, j)
      const raw = text.slice(j + 1, keyEnd)
      slot = raw.includes("\\") ? (JSON.parse(`"${raw}"`) as string) : raw
      j = skipBlank(text, keyEnd + 1)
      if (text.charCodeAt(j) !== COLON) corrupt("expected :", j)
      j = skipBlank(text, j + 1)
    }
    const end = valueEnd(text, j)
    if (visit(slot, j, end)) return
    j = skipBlank(text, end + 1)
    const c = text.charCodeAt(j)
    if (c === close) return
    if (c !== COMMA) corrupt("expected , or a closing bracket", j)
    j = skipBlank(text, j + 1)
  }
}

/**
 * The JSON text of the value at `path`, or undefined when there is none (a missing key, an
 * index past the end, or a path going through a scalar). A repeated key counts with its last
 * value, as in JSON.parse. Throws CorruptJsonError when the text is not JSON.
 */
export const valueAt = (text: string, path: Path): string | undefined => {
  let start = skipBlank(text, 0)
  let end = valueEnd(text, start)
  for (const segment of path) {
    const c = text.charCodeAt(start)
    if (typeof segment === "number" ? c !== LBRACK : c !== LBRACE) return undefined
    let found = false
    eachChild(text, start, (slot, s, e) => {
      if (slot !== segment) return false
      found = true
      start = s
      end = e
      return typeof segment === "number"
    })
    if (!found) return undefined
  }
  return text.slice(start, end + 1)
}
