// The decimals of each currency (ref.currencies), which the edge needs to read an amount. The
// table changes about once a decade, so each process keeps it in memory and reads it again
// every few minutes; a failed read keeps the copy it has.
import { Database } from "@bank/platform"
import { Effect } from "effect"
import type { Exponents } from "./TransferRequest.ts"

const REFRESH_MS = 5 * 60_000

let cached: { readonly exponents: Exponents; readonly at: number } | undefined

/** Currency code → number of decimals. */
export const exponents = Effect.gen(function* () {
  if (cached && Date.now() - cached.at < REFRESH_MS) return cached.exponents
  const db = yield* Database.Database
  const read = db
    .query<{ code: string; minor_unit: number }>("SELECT code, minor_unit FROM ref.currencies")
    .pipe(Effect.map((rows): Exponents => new Map(rows.map((r) => [r.code, Number(r.minor_unit)]))))
  if (cached) {
    const previous = cached.exponents
    const fresh = yield* read.pipe(Effect.orElseSucceed(() => previous))
    cached = { exponents: fresh, at: Date.now() }
    return fresh
  }
  const fresh = yield* read
  cached = { exponents: fresh, at: Date.now() }
  return fresh
})
