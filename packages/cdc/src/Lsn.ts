// PostgreSQL's two wire formats the replication protocol speaks: LSNs (64-bit WAL positions,
// written `X/Y` in hex) and timestamps (microseconds since 2000-01-01 UTC).
export { lsnToBigInt as parse } from "@bank/contracts"

export const format = (lsn: bigint): string =>
  `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`

export const zero = 0n

/** Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01T00:00:00Z). */
const PG_EPOCH_US = 946_684_800_000_000n

/** A PostgreSQL wire timestamp as ISO-8601 UTC, keeping the microseconds. */
export const timestampToIso = (pgMicros: bigint): string => {
  const unixMicros = pgMicros + PG_EPOCH_US
  const millis = unixMicros / 1000n
  const micros = Number(((unixMicros % 1_000_000n) + 1_000_000n) % 1_000_000n)
  const iso = new Date(Number(millis)).toISOString() // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 19)}.${String(micros).padStart(6, "0")}Z`
}

/** Now, as a PostgreSQL wire timestamp (what a standby status update carries). */
export const nowTimestamp = (): bigint => BigInt(Date.now()) * 1000n - PG_EPOCH_US
