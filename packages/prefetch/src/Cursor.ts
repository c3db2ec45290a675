// The opaque cursor of a transactions page: which account and the entry number the next page
// starts below, as base64url JSON. It holds no secret and grants nothing (ownership is checked
// on every request); being opaque lets the format change without breaking clients.
import { Option } from "effect"

interface Position {
  /** The account, canonical `<system>:<id>`: a cursor is refused on another account. */
  readonly account: string
  /** Entries numbered below this come next. */
  readonly before: number
}

export const encode = (position: Position): string =>
  Buffer.from(JSON.stringify({ v: 1, a: position.account, b: position.before })).toString("base64url")

/** The position of `cursor` if it is a well-formed cursor of `account`. */
export const decode = (cursor: string, account: string): Option.Option<Position> => {
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(cursor)) return Option.none()
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as {
      v?: unknown
      a?: unknown
      b?: unknown
    }
    if (value.v !== 1 || value.a !== account) return Option.none()
    if (typeof value.b !== "number" || !Number.isSafeInteger(value.b) || value.b < 1) return Option.none()
    return Option.some({ account, before: value.b })
  } catch {
    return Option.none()
  }
}
