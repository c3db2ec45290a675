// The connector's numbers, served as Prometheus text on GET /metrics (CDC_METRICS_PORT). The
// one to alert on is `cdc_slot_lag_bytes`: WAL the slot has not confirmed. It grows while the
// connector is down or stalled, and PostgreSQL keeps all of that WAL on disk for the slot;
// `cdc_slot_wal_status` turns to "unreserved"/"lost" when max_slot_wal_keep_size is about to
// give up on the slot (see CdcConnector.ts). Standby instances serve it too, so the lag of a
// slot whose active connector died is still visible.
import { Retention } from "@bank/platform"
import { createServer, type Server } from "node:http"
import { Effect } from "effect"
import type { SlotLag } from "./Catalog.ts"
import * as Lsn from "./Lsn.ts"

export type Role = "starting" | "standby" | "snapshot" | "streaming"

export interface MetricsState {
  role: Role
  /** RowChanged entries appended by streaming (not counting the snapshot). */
  changes: number
  transactions: number
  snapshotRows: number
  /** Highest LSN confirmed to the server. */
  confirmedLsn: bigint
  /** Commit to "in Redis" of the newest transaction, in ms. */
  lastCommitDelayMs: number | undefined
  slot: SlotLag | undefined
  slotSampledAt: number | undefined
  sessionFailures: number
}

export const initial = (): MetricsState => ({
  role: "starting",
  changes: 0,
  transactions: 0,
  snapshotRows: 0,
  confirmedLsn: 0n,
  lastCommitDelayMs: undefined,
  slot: undefined,
  slotSampledAt: undefined,
  sessionFailures: 0
})

const roles: ReadonlyArray<Role> = ["starting", "standby", "snapshot", "streaming"]
const walStatuses = ["reserved", "extended", "unreserved", "lost"]

/** The Prometheus text exposition of `state`. */
export const render = (slot: string, state: MetricsState): string => {
  const label = `slot="${slot}"`
  const lines: Array<string> = []
  const metric = (name: string, type: "gauge" | "counter", help: string, samples: ReadonlyArray<[string, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [labels, value] of samples) lines.push(`${name}{${label}${labels}} ${value}`)
  }
  metric(
    "cdc_role",
    "gauge",
    "1 for the role this connector instance is in.",
    roles.map((r) => [`,role="${r}"`, r === state.role ? 1 : 0])
  )
  metric("cdc_changes_total", "counter", "Row changes appended to Redis by streaming.", [["", state.changes]])
  metric("cdc_transactions_total", "counter", "Database transactions appended to Redis.", [["", state.transactions]])
  metric("cdc_snapshot_rows_total", "counter", "Rows appended by the initial snapshot.", [["", state.snapshotRows]])
  metric(
    "cdc_stream_cap_trims_total",
    "counter",
    "Times a stream reached its retention cap (CDC_STREAM_MAXLEN) and unread entries of some group may have been trimmed.",
    [...Retention.capTrimCounts()].map(([stream, n]) => [`,stream="${stream}"`, n])
  )
  metric("cdc_session_failures_total", "counter", "Sessions that ended in an error and were restarted.", [
    ["", state.sessionFailures]
  ])
  metric("cdc_confirmed_lsn", "gauge", "Highest LSN confirmed to PostgreSQL by this instance.", [
    ["", Number(state.confirmedLsn)]
  ])
  if (state.lastCommitDelayMs !== undefined) {
    metric("cdc_commit_to_redis_seconds", "gauge", "Commit-to-Redis delay of the newest transaction.", [
      ["", state.lastCommitDelayMs / 1000]
    ])
  }
  if (state.slot) {
    metric("cdc_slot_lag_bytes", "gauge", "WAL written since the slot's confirmed flush LSN.", [
      ["", state.slot.lagBytes]
    ])
    metric("cdc_slot_retained_wal_bytes", "gauge", "WAL PostgreSQL keeps on disk for the slot.", [
      ["", state.slot.retainedBytes]
    ])
    metric("cdc_slot_active", "gauge", "1 while a connector streams from the slot.", [["", state.slot.active ? 1 : 0]])
    metric(
      "cdc_slot_wal_status",
      "gauge",
      "1 for the slot's wal_status.",
      walStatuses.map((s) => [`,status="${s}"`, s === state.slot!.walStatus ? 1 : 0])
    )
    if (state.slot.safeWalBytes !== null) {
      metric("cdc_slot_safe_wal_bytes", "gauge", "WAL that may still be written before the slot is at risk.", [
        ["", state.slot.safeWalBytes]
      ])
    }
  }
  if (state.slotSampledAt !== undefined) {
    metric("cdc_slot_sampled_timestamp_seconds", "gauge", "When the slot was last sampled.", [
      ["", state.slotSampledAt / 1000]
    ])
  }
  return `${lines.join("\n")}\n`
}

/** A JSON summary, kept in Redis for dashboards that read Redis rather than Prometheus. */
export const summary = (state: MetricsState) => ({
  role: state.role,
  lagBytes: state.slot?.lagBytes ?? null,
  retainedBytes: state.slot?.retainedBytes ?? null,
  walStatus: state.slot?.walStatus ?? null,
  confirmedLsn: Lsn.format(state.confirmedLsn),
  at: new Date(state.slotSampledAt ?? Date.now()).toISOString()
})

/**
 * Serves GET /metrics on `port` until the scope closes, on `host` only (default 127.0.0.1: an
 * internal port is not for the world; set CDC_METRICS_HOST=0.0.0.0 for a scraper elsewhere).
 */
export const serve = (port: number, body: () => string, host = "127.0.0.1") =>
  Effect.acquireRelease(
    Effect.callback<Server>((resume) => {
      const server = createServer((req, res) => {
        if (req.method === "GET" && req.url?.split("?")[0] === "/metrics") {
          res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(body())
        } else {
          res.writeHead(404).end()
        }
      })
      server.once("error", (cause) => resume(Effect.die(cause)))
      server.listen(port, host, () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections() // a scraper's keep-alive connection must not hold shutdown
      })
  )
