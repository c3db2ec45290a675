// The one-off that removes secrets written to the general CDC streams before the column filter
// existed (ColumnFilter.ts): every entry of `cdc.<system>` and its dead-letter stream whose row
// carries a column the rules keep off that stream is deleted (XDEL; Redis cannot edit an entry,
// and a rewritten copy would land at the stream's end, out of order). Entries some consumer
// group has not read yet are left for a later run, so no consumer misses a change it still
// needs; groups named in `ignoreGroups` (identity.credentials, which now reads `cdc.identity`)
// do not hold entries back. `scripts/cdc-scrub.ts` runs it; see packages/identity/README.md.
import { Cdc } from "@bank/contracts"
import { Keys } from "@bank/platform"
import { Effect } from "effect"
import { Redis } from "effect/persistence/Redis"
import type * as ColumnFilter from "./ColumnFilter.ts"

export interface ScrubResult {
  readonly stream: string
  /** Entries carrying a filtered column. */
  readonly found: number
  readonly deleted: number
  /** Found but not yet read by every group: run again later. */
  readonly heldBack: number
}

const compareIds = (a: string, b: string): number => {
  const [am, as] = a.split("-").map(BigInt) as [bigint, bigint]
  const [bm, bs] = b.split("-").map(BigInt) as [bigint, bigint]
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1
}

/** Whether an entry's row shows a column the rules keep off this stream. */
export const carriesFiltered = (rules: ColumnFilter.Rules, payload: unknown): boolean => {
  const row = payload as Partial<Cdc.RowChanged>
  if (row._tag !== "RowChanged") return false
  const rule = rules[`${row.schema}.${row.table}`]
  if (rule === undefined) return false
  const columns = [...Object.keys(row.new ?? {}), ...Object.keys(row.old ?? {})]
  return columns.some(
    (c) => (rule.exclude ?? []).includes(c) || (rule.include !== undefined && !rule.include.includes(c))
  )
}

export const scrub = Effect.fn("Scrub.scrub")(function* (options: {
  readonly rules: ColumnFilter.Rules
  readonly systems: ReadonlyArray<string>
  readonly apply: boolean
  readonly ignoreGroups?: ReadonlyArray<string>
}) {
  const redis = yield* Redis
  const results: Array<ScrubResult> = []
  for (const system of options.systems) {
    const name = Cdc.stream(system).name
    for (const key of [Keys.stream(name), Keys.deadLetter(name)]) {
      if ((yield* redis.send<string>("TYPE", key)) !== "stream") continue
      // Entries up to the oldest position every (relevant) group has read, and none pending.
      const groups =
        key === Keys.stream(name)
          ? yield* redis.send<ReadonlyArray<ReadonlyArray<unknown>>>("XINFO", "GROUPS", key)
          : []
      let cutoff: string | undefined
      const pending = new Set<string>()
      for (const group of groups) {
        const info: Record<string, unknown> = {}
        for (let i = 0; i + 1 < group.length; i += 2) info[String(group[i])] = group[i + 1]
        if ((options.ignoreGroups ?? []).includes(String(info.name))) continue
        const last = String(info["last-delivered-id"])
        if (cutoff === undefined || compareIds(last, cutoff) < 0) cutoff = last
        const ids = yield* redis.send<ReadonlyArray<ReadonlyArray<unknown>>>(
          "XPENDING",
          key,
          String(info.name),
          "-",
          "+",
          "100000"
        )
        for (const p of ids) pending.add(String(p[0]))
      }
      let found = 0
      let deleted = 0
      let heldBack = 0
      let from = "-"
      while (true) {
        const page = yield* redis.send<ReadonlyArray<[string, ReadonlyArray<string>]>>(
          "XRANGE",
          key,
          from,
          "+",
          "COUNT",
          "1000"
        )
        for (const [id, fields] of page) {
          const data = fields[fields.indexOf("data") + 1]
          let payload: unknown
          try {
            payload = JSON.parse(data ?? "null")
          } catch {
            continue
          }
          if (!carriesFiltered(options.rules, payload)) continue
          found++
          if ((cutoff !== undefined && compareIds(id, cutoff) > 0) || pending.has(id)) {
            heldBack++
            continue
          }
          if (options.apply) deleted += yield* redis.send<number>("XDEL", key, id)
        }
        if (page.length < 1000) break
        from = `(${page.at(-1)![0]}`
      }
      results.push({ stream: key, found, deleted, heldBack })
    }
  }
  return results
})
