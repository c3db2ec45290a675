// Building blocks of generated histories: a calendar in UTC milliseconds, a timeline that runs
// an account's events in time order, and a ledger that books them as numbered entries with a
// running balance (the rule in migrations/004_deposits.sql), so the account's final balance is
// the sum of its entries by construction.
import type { Row, TableName } from "./Tables.ts"

export const DAY = 86_400_000

/** The generated history covers [start, end): `end` is the as-of date at midnight UTC. */
export interface Window {
  readonly start: number
  readonly end: number
}

export const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10)
export const isoTime = (ms: number): string => new Date(ms).toISOString()

export const startOfDay = (ms: number): number => ms - (((ms % DAY) + DAY) % DAY)

/** The same day `months` months later (or earlier), clamped to the month's last day. */
export const addMonths = (ms: number, months: number): number => {
  const d = new Date(ms)
  const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1)
  const f = new Date(first)
  const last = new Date(Date.UTC(f.getUTCFullYear(), f.getUTCMonth() + 1, 0)).getUTCDate()
  return first + (Math.min(d.getUTCDate(), last) - 1) * DAY + (ms - startOfDay(ms))
}

/** Day `day` (1-28) of every month that overlaps the window, at midnight. */
export const monthlyDays = (window: Window, day: number): ReadonlyArray<number> => {
  const days: Array<number> = []
  const s = new Date(window.start)
  for (let m = 0; ; m++) {
    const at = Date.UTC(s.getUTCFullYear(), s.getUTCMonth() + m, day)
    if (at >= window.end) return days
    if (at >= window.start) days.push(at)
  }
}

/** Collects events, then runs them in time order (ties in the order they were added). */
export class Timeline {
  private readonly events: Array<{ at: number; seq: number; run: () => void }> = []

  add(at: number, run: () => void): void {
    this.events.push({ at, seq: this.events.length, run })
  }

  run(): void {
    this.events.sort((a, b) => a.at - b.at || a.seq - b.seq)
    for (const event of this.events) event.run()
  }
}

/** Hands out ids per table, in generation order, so the same seed gives the same ids. */
export class Ids {
  private readonly last = new Map<string, number>()

  next(table: TableName): number {
    const id = (this.last.get(table) ?? 0) + 1
    this.last.set(table, id)
    return id
  }
}

export interface Sink {
  push(table: TableName, row: Row): void
}

export interface Posting {
  readonly at: number
  readonly amount: number
  readonly description: string
  readonly counterparty: string | null
  readonly category: string
  /** Defaults to the booking date. */
  readonly valueDate?: number
  /** The table's columns after the common ledger columns (see Tables.ts). */
  readonly extra?: Row
}

export class Ledger {
  balance = 0
  lastEntryNo = 0

  constructor(
    private readonly sink: Sink,
    private readonly ids: Ids,
    private readonly table: TableName,
    private readonly accountId: number,
    private readonly customerId: number,
    private readonly currency: string,
    private readonly noExtra: Row = []
  ) {}

  /** Books one entry; a zero amount books nothing (the schema rejects it). */
  post(p: Posting): void {
    if (p.amount === 0) return
    if (!Number.isSafeInteger(p.amount)) throw new RangeError(`amount ${p.amount} is not an integer of minor units`)
    this.balance += p.amount
    this.lastEntryNo += 1
    this.sink.push(this.table, [
      this.ids.next(this.table),
      this.accountId,
      this.customerId,
      this.lastEntryNo,
      p.amount,
      this.currency,
      isoDate(p.at),
      isoDate(p.valueDate ?? p.at),
      isoTime(p.at),
      p.description,
      p.counterparty,
      p.category,
      this.balance,
      ...(p.extra ?? this.noExtra)
    ])
  }

  /** The 'opening' entry: what the account held when the generated history starts. */
  open(at: number, balance: number): void {
    this.post({ at, amount: balance, description: "Balance brought forward", counterparty: null, category: "opening" })
  }
}
