// Writing JSON exactly. JSON.stringify cannot write a bigint and JSON.parse turns any integer
// above 2^53 into the nearest double, so values bound for the store go through `stringify`,
// which writes a bigint as a JSON number with all its digits, and increments are carried as
// plain decimal text from start to end.

/** A JSON value as callers pass it; `bigint` is written as an exact JSON number. */
export type Json =
  | null
  | boolean
  | number
  | bigint
  | string
  | ReadonlyArray<Json>
  | { readonly [key: string]: Json | undefined }

export class JsonValueError extends Error {}

/** A number the target cannot hold exactly (a bigint beyond int64 for RedisJSON). */
export class NotExactError extends JsonValueError {}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

export interface StringifyOptions {
  /** Refuse bigints outside int64 (RedisJSON would store them as doubles). */
  readonly int64?: boolean
}

/** Compact JSON text of `value`; throws JsonValueError for what JSON cannot hold exactly. */
export const stringify = (value: Json, options: StringifyOptions = {}): string => {
  // Most documents hold no bigint: then the engine's own writer, several times faster than ours.
  if (isPlain(value)) return JSON.stringify(value)
  const out: Array<string> = []
  write(value, out, options.int64 === true, "$")
  return out.join("")
}

// Whether JSON.stringify writes `value` exactly as `write` would: only strings, finite numbers,
// booleans, null, dense arrays and objects without toJSON (undefined members are skipped by both).
const isPlain = (value: unknown): boolean => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(value)
    case "object": {
      if (value === null) return true
      if (typeof (value as { toJSON?: unknown }).toJSON === "function") return false
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (value[i] === undefined || !isPlain(value[i])) return false
        }
        return true
      }
      for (const key of Object.keys(value)) {
        const member = (value as Record<string, unknown>)[key]
        if (member !== undefined && !isPlain(member)) return false
      }
      return true
    }
    default:
      return false
  }
}

const write = (value: unknown, out: Array<string>, int64: boolean, at: string): void => {
  switch (typeof value) {
    case "string":
      out.push(JSON.stringify(value))
      return
    case "number":
      if (!Number.isFinite(value)) throw new JsonValueError(`${at}: ${value} is not a JSON number`)
      out.push(String(value))
      return
    case "bigint":
      if (int64 && (value < INT64_MIN || value > INT64_MAX)) {
        throw new NotExactError(
          `${at}: ${value} does not fit 64 bits, which is all RedisJSON keeps exactly; store it as a decimal string`
        )
      }
      out.push(value.toString())
      return
    case "boolean":
      out.push(value ? "true" : "false")
      return
    case "object": {
      if (value === null) {
        out.push("null")
        return
      }
      const withJson = value as { toJSON?: () => unknown }
      if (typeof withJson.toJSON === "function") return write(withJson.toJSON(), out, int64, at)
      if (Array.isArray(value)) {
        out.push("[")
        value.forEach((item, i) => {
          if (i > 0) out.push(",")
          write(item, out, int64, `${at}[${i}]`)
        })
        out.push("]")
        return
      }
      out.push("{")
      let first = true
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined) continue
        if (!first) out.push(",")
        first = false
        out.push(JSON.stringify(k), ":")
        write(v, out, int64, `${at}.${k}`)
      }
      out.push("}")
      return
    }
    default:
      throw new JsonValueError(`${at}: a ${typeof value} is not a JSON value`)
  }
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/

/**
 * An increment as plain decimal text ("-12", "0.05"): what the Lua side adds digit by digit.
 * Numbers in exponent form (1e21, 5e-7) are expanded; non-finite ones are refused.
 */
export const decimal = (by: number | bigint | string): string => {
  if (typeof by === "bigint") return by.toString()
  if (typeof by === "number" && !Number.isFinite(by)) throw new JsonValueError(`${by} is not a number`)
  const text = String(by)
  const m = DECIMAL.exec(text)
  if (!m) throw new JsonValueError(`${JSON.stringify(text)} is not a decimal number`)
  const [, sign, int = "", frac = "", exp = "0"] = m
  const shift = Number(exp)
  if (Math.abs(shift) > 400) throw new JsonValueError(`${text}: the exponent is too large to increment exactly`)
  const digits = int + frac
  let point = int.length + shift
  let padded = digits
  if (point > padded.length) padded = padded + "0".repeat(point - padded.length)
  if (point < 1) {
    padded = "0".repeat(1 - point) + padded
    point = 1
  }
  const whole = padded.slice(0, point).replace(/^0+(?=\d)/, "")
  const fraction = padded.slice(point)
  const result = fraction === "" ? whole : `${whole}.${fraction}`
  return /[1-9]/.test(result) ? sign + result : result
}
