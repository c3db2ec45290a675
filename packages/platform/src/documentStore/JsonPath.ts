// The small JSONPath subset the document store accepts, parsed and checked once in TS so the
// Lua side only ever sees a clean list of segments:
//   $                      the whole document
//   $.name                 an object member (names: letters, digits, _ and $, not starting with a digit)
//   $[0]                   an array element (non-negative index)
//   $["any key"]  $['k']   an object member with any characters (JSON escapes inside "...")
// Wildcards, slices, filters, negative indexes and `..` are refused: every path names one place.

/** A parsed path: strings are object keys, numbers array indexes. `[]` is the root. */
export type Path = ReadonlyArray<string | number>

export class PathSyntaxError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string
  ) {
    super(`invalid path ${JSON.stringify(path)}: ${detail}`)
  }
}

const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*/
const INDEX = /^(0|[1-9][0-9]{0,8})\]/

/** Parses `text`; throws PathSyntaxError when it is not in the subset. */
export const parse = (text: string): Path => {
  if (text[0] !== "$") throw new PathSyntaxError(text, "a path starts with $")
  const segments: Array<string | number> = []
  let i = 1
  while (i < text.length) {
    const c = text[i]
    if (c === ".") {
      const name = NAME.exec(text.slice(i + 1))
      if (!name) throw new PathSyntaxError(text, `expected a name after "." at ${i} (use ["..."] for other keys)`)
      segments.push(name[0])
      i += 1 + name[0].length
    } else if (c === "[") {
      const q = text[i + 1]
      if (q === '"' || q === "'") {
        const [key, end] = quoted(text, i + 1, q)
        if (text[end] !== "]") throw new PathSyntaxError(text, `expected ] at ${end}`)
        segments.push(key)
        i = end + 1
      } else {
        const index = INDEX.exec(text.slice(i + 1))
        if (!index) throw new PathSyntaxError(text, `expected an index, "key" or 'key' after [ at ${i}`)
        segments.push(Number(index[1]))
        i += 1 + index[0].length
      }
    } else {
      throw new PathSyntaxError(text, `unexpected ${JSON.stringify(c)} at ${i}`)
    }
  }
  return segments
}

// A quoted key starting at `start`; returns the key and the index after the closing quote.
// The key uses JSON escapes; in a single-quoted key \' stands for the quote itself.
const quoted = (text: string, start: number, quote: string): [string, number] => {
  let json = ""
  let i = start + 1
  while (i < text.length && text[i] !== quote) {
    const c = text[i]!
    if (c === "\\") {
      const next = text[i + 1] ?? ""
      json += quote === "'" && next === "'" ? "'" : c + next
      i += 2
    } else {
      json += c === '"' ? '\\"' : c
      i += 1
    }
  }
  if (i >= text.length) throw new PathSyntaxError(text, `unterminated key starting at ${start}`)
  try {
    return [JSON.parse(`"${json}"`) as string, i + 1]
  } catch {
    throw new PathSyntaxError(text, `bad escape in key starting at ${start}`)
  }
}

const PLAIN = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Canonical text of a path (what error messages show). */
export const format = (path: Path): string =>
  "$" +
  path.map((s) => (typeof s === "number" ? `[${s}]` : PLAIN.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join("")

/** The path in RedisJSON's syntax, which knows only \" and \\ as escapes inside ["..."]. */
export const native = (path: Path): string =>
  "$" +
  path
    .map((s) => (typeof s === "number" ? `[${s}]` : PLAIN.test(s) ? `.${s}` : `["${s.replace(/[\\"]/g, "\\$&")}"]`))
    .join("")
