// Ledger entries and prefetched windows for the prefetch package's tests: entry n is numbered n,
// books n × 100 minor units and leaves a balance of n × 1000.
import type { LoadedWindow } from "../TransactionCache.ts"
import type { Compact } from "../Transactions.ts"

export const entry = (n: number): Compact => [
  String(1000 + n),
  n,
  String(n * 100),
  "2025-06-15",
  "2025-06-15",
  "2025-06-15T10:00:00.000000Z",
  `entry ${n}`,
  null,
  "groceries",
  String(n * 1000)
]

/** A EUR window holding entries from..last. */
export const window = (from: number, last: number): LoadedWindow => ({
  from,
  last,
  currency: "EUR",
  exponent: 2,
  entries: Array.from({ length: last - from + 1 }, (_, i) => entry(from + i))
})
