// CDC positions and times as the dashboard document stores them. A position `(commitLsn, seq)`
// becomes fixed-width text, `<LSN: 16 hex digits>:<seq: 10 digits>`, so that comparing two
// positions is comparing two strings: what the document store's `guard` does in Lua.
import { Cdc } from "@bank/contracts"

/** `16/B374D848`, 3 → `00000016B374D848:0000000003`. */
export const encode = (position: Cdc.Position): string =>
  `${Cdc.lsnToBigInt(position.commitLsn).toString(16).toUpperCase().padStart(16, "0")}:${String(position.seq).padStart(10, "0")}`

/** The position before every entry of the snapshot taken at `lsn` (its rows have seq ≥ 1). */
export const snapshotStart = (lsn: string): string => encode({ commitLsn: lsn, seq: 0 })

/** Revisions of a document: fixed width too, so `guard` can compare-and-set on them. */
export const revision = (n: number): string => String(n).padStart(12, "0")

const PG_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(?:\+00(?::00)?|Z)$/

/**
 * PostgreSQL's text of a timestamptz in UTC (`2025-06-15 10:00:00.12+00`, what CDC carries) as
 * ISO-8601 with microseconds (`2025-06-15T10:00:00.120000Z`), the form the documents use and
 * that sorts as text. Anything else is returned unchanged.
 */
export const isoTime = (pgText: string): string => {
  const m = PG_TIMESTAMP.exec(pgText)
  if (!m) return pgText
  return `${m[1]}T${m[2]}.${(m[3] ?? "").padEnd(6, "0")}Z`
}
