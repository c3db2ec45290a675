// The CDC connector actor: PostgreSQL logical replication (pgoutput) into the `cdc.<system>`
// Redis Streams (contracts/Cdc.ts), one per schema of the systems of record.
//
// Guarantees, and what they rest on:
// - No loss, at least once. The slot's confirmed flush LSN advances only after Redis
//   acknowledged every entry of the transactions it covers (Session.ts), so after a crash the
//   slot replays whatever might be missing. "Acknowledged" means in Redis's memory: durability
//   is then Redis's persistence, i.e. `appendonly yes` with `appendfsync everysec` may lose the
//   last second if the Redis host dies (use `always`, or CDC_REDIS_WAIT_REPLICAS=n to confirm a
//   batch only once n replicas have it).
// - Duplicates are rare and harmless: a restart skips what each stream already holds, and
//   every entry carries a position (commitLsn, seq) that only grows, for `Cdc.isNewer`.
// - Snapshot hand-off without gap or double: see Snapshot.ts. The marker
//   `global:cdc:<slot>:snapshot` in Redis records that the copy completed. If Redis loses its
//   data (marker gone, slot still there) the connector drops the slot, creates it again and
//   takes a new snapshot, so a wiped Redis refills itself; consumers see `SnapshotStarted`.
// - One active connector per slot (advisory lock); start two for fail-over, the second waits.
// - Reconnects with exponential backoff (up to 30 s) whenever PostgreSQL or Redis goes away.
//
// Operations: a slot that nobody consumes keeps all WAL since its confirmed position, which can
// fill the database's disk. Watch `cdc_slot_lag_bytes` (GET /metrics on the management port, the
// log line every CDC_LAG_INTERVAL_MS, and `global:cdc:<slot>:lag` in Redis) and set
// `max_slot_wal_keep_size` (e.g. '50GB') in postgresql.conf: beyond it PostgreSQL invalidates
// the slot instead of filling the disk. The connector then sees wal_status "lost", drops and
// recreates the slot and takes a new snapshot by itself (the lost changes are in the new
// copy). To retire CDC for good, drop the slot: `SELECT pg_drop_replication_slot('bank_cdc')`.
//
// Requirements: wal_level=logical; a PostgreSQL role with REPLICATION (and superuser to create
// a FOR TABLES IN SCHEMA publication, or create `bank_cdc` beforehand); a Redis that never
// evicts these keys (maxmemory-policy noeviction), since a lost marker means a new snapshot.
import { Cause, Config, Context, Effect, Layer, Redacted, Schema } from "effect"
import { Redis } from "effect/persistence/Redis"
import { Cdc } from "@bank/contracts"
import { Keys, Retention } from "@bank/platform"
import * as Catalog from "./Catalog.ts"
import * as ColumnFilter from "./ColumnFilter.ts"
import * as Metrics from "./Metrics.ts"
import * as PgConnection from "./PgConnection.ts"
import * as Session from "./Session.ts"
import * as StreamWriter from "./StreamWriter.ts"

export interface CdcOptions {
  readonly databaseUrl: string | Redacted.Redacted<string>
  readonly slot: string
  readonly publication: string
  readonly schemas: ReadonlyArray<string>
  /** Partitions of each system stream (Cdc.ts); reference data stays one stream. */
  readonly partitions: number
  /** Port of GET /metrics; 0 for none. */
  readonly metricsPort: number
  /** Interface it listens on (default 127.0.0.1). */
  readonly metricsHost: string
  readonly batchSize: number
  readonly snapshotPageSize: number
  readonly lagIntervalMs: number
  /** Retention cap per stream partition: reaching it is loud (platform Retention.ts). */
  readonly streamMaxLen: number
  /** Entries younger than this stay even once every group is done with them (a replay window). */
  readonly retentionKeepMs: number
  readonly standbyPollMs: number
  readonly waitReplicas: number
  /** Which columns reach which stream, per table (ColumnFilter.ts). */
  readonly columnFilters: ColumnFilter.Rules
}

export const defaults = {
  slot: Cdc.defaultSlot,
  publication: "bank_cdc",
  schemas: Cdc.capturedSchemas,
  partitions: Cdc.defaultPartitions,
  // The numbers are on the process's management port (/metrics); a port here adds a server of its own.
  metricsPort: 0,
  metricsHost: "127.0.0.1",
  batchSize: 500,
  snapshotPageSize: 1000,
  lagIntervalMs: 10_000,
  streamMaxLen: 1_000_000,
  retentionKeepMs: 900_000,
  standbyPollMs: 2000,
  // As REDIS_WAIT_REPLICAS says (1 on a cluster, 0 on one server): see platform/Durability.ts.
  waitReplicas: -1,
  columnFilters: ColumnFilter.defaults
} satisfies Omit<CdcOptions, "databaseUrl">

export class CdcConnector extends Context.Service<
  CdcConnector,
  {
    /** A copy of the connector's current numbers. */
    readonly metrics: Effect.Effect<Metrics.MetricsState>
    /** The same, as Prometheus text. */
    readonly prometheus: Effect.Effect<string>
  }
>()("@bank/records/CdcConnector") {}

/** Keys of a slot's connector state. */
export const keys = (slot: string) => ({
  /** JSON {lsn, rows, tables, completedAt}: the snapshot completed. */
  snapshot: Cdc.snapshotMarker(slot),
  /** JSON summary of the latest slot-lag sample. */
  lag: Keys.global(`cdc:${slot}:lag`)
})

const backoffMs = (failures: number) =>
  Math.min(30_000, 250 * 2 ** Math.min(failures - 1, 7)) + Math.floor(Math.random() * 250)

/** Samples the slot's lag on its own connection (reconnecting as needed), standby or not. */
const monitor = (options: CdcOptions, url: string, metrics: Metrics.MetricsState) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const lagKey = keys(options.slot).lag
    const sample = Effect.scoped(
      Effect.gen(function* () {
        const db = yield* PgConnection.connect(url, { name: "cdc-monitor" })
        while (true) {
          const lag = yield* Catalog.slotLag(db, options.slot)
          metrics.slot = lag
          metrics.slotSampledAt = Date.now()
          if (lag) {
            const log = lag.walStatus === "unreserved" || lag.walStatus === "lost" ? Effect.logWarning : Effect.logInfo
            yield* log("replication slot lag", {
              slot: options.slot,
              lagBytes: lag.lagBytes,
              retainedBytes: lag.retainedBytes,
              walStatus: lag.walStatus,
              active: lag.active
            })
          }
          yield* redis.send("SET", lagKey, JSON.stringify(Metrics.summary(metrics))).pipe(Effect.ignore)
          yield* Effect.sleep(options.lagIntervalMs)
        }
      })
    )
    yield* sample.pipe(
      Effect.catchCause((cause) =>
        Effect.logWarning("slot lag sampling failed; retrying", cause).pipe(
          Effect.andThen(Effect.sleep(options.lagIntervalMs))
        )
      ),
      Effect.forever
    )
  })

export const make = Effect.fn("CdcConnector.make")(function* (options: CdcOptions) {
  const url = Redacted.isRedacted(options.databaseUrl) ? Redacted.value(options.databaseUrl) : options.databaseUrl
  const metrics = Metrics.initial()
  const streams = yield* StreamWriter.make({
    systems: [...options.schemas, ...ColumnFilter.privateSystems(options.columnFilters)],
    partitions: options.partitions,
    maxLen: options.streamMaxLen
  })
  // Secrets never reach a general stream: every entry passes the column filter on its way out.
  const filter = ColumnFilter.make(options.columnFilters)
  const writer: StreamWriter.StreamWriter = { ...streams, write: (entries) => streams.write(filter(entries)) }
  const sessionOptions: Session.SessionOptions = {
    databaseUrl: url,
    slot: options.slot,
    publication: options.publication,
    schemas: options.schemas,
    partitions: options.partitions,
    batchSize: options.batchSize,
    snapshotPageSize: options.snapshotPageSize,
    standbyPollMs: options.standbyPollMs,
    markerCheckMs: Math.min(options.lagIntervalMs, 5000),
    waitReplicas: options.waitReplicas,
    markerKey: keys(options.slot).snapshot,
    writer,
    metrics
  }

  const supervise = Effect.gen(function* () {
    let failures = 0
    while (true) {
      const startedAt = Date.now()
      const exit = yield* Effect.exit(Session.run(sessionOptions))
      if (exit._tag === "Failure" && Cause.hasInterruptsOnly(exit.cause)) return
      // A session that ran a while before failing starts the backoff over.
      failures = Date.now() - startedAt > 60_000 ? 1 : failures + 1
      metrics.sessionFailures++
      metrics.role = "starting"
      const delay = backoffMs(failures)
      const cause = exit._tag === "Failure" ? Cause.pretty(exit.cause) : "the stream ended"
      yield* Effect.logWarning(`CDC session ended; reconnecting in ${delay} ms: ${cause}`)
      yield* Effect.sleep(delay)
    }
  })

  yield* Effect.forkScoped(supervise)
  // Trimming, by what the consumer groups still need (never XADD MAXLEN, which is blind to them).
  const retained = [...options.schemas, ...ColumnFilter.privateSystems(options.columnFilters)].flatMap((system) =>
    Cdc.streams(system, options.partitions).map((spec) => spec.name)
  )
  yield* Retention.run({
    streams: Effect.succeed(retained),
    maxLen: options.streamMaxLen,
    keepMs: options.retentionKeepMs
  })
  yield* Effect.forkScoped(monitor(options, url, metrics))
  const prometheus = Effect.sync(() => Metrics.render(options.slot, metrics))
  if (options.metricsPort > 0) {
    yield* Metrics.serve(options.metricsPort, () => Metrics.render(options.slot, metrics), options.metricsHost)
    yield* Effect.logInfo("CDC metrics on /metrics", { port: options.metricsPort })
  }
  return CdcConnector.of({
    metrics: Effect.sync(() => ({ ...metrics })),
    prometheus
  })
})

/** Runs the connector while the layer is alive; needs `Redis` and `RedisTopology` (RedisClient). */
export const layer = (options: Partial<CdcOptions> & Pick<CdcOptions, "databaseUrl">) =>
  Layer.effect(CdcConnector, make({ ...defaults, ...options }))

const Identifier = Schema.String.check(Schema.isPattern(/^[a-z_][a-z0-9_]{0,62}$/))
const SchemaList = Schema.String.check(Schema.isPattern(/^[a-z_][a-z0-9_]{0,62}(,[a-z_][a-z0-9_]{0,62})*$/))

/** The snapshot marker of the slot in CDC_SLOT (in contracts: readers wait for it). */
export const snapshotMarkerConfig = Cdc.snapshotMarkerConfig

/** The connector configured from the environment (see .env.example). */
export const layerConfig = Layer.effect(
  CdcConnector,
  Effect.gen(function* () {
    const options = yield* Config.all({
      databaseUrl: Config.Redacted("DATABASE_URL").pipe(
        Config.withDefault(Redacted.make("postgres://postgres@127.0.0.1:5432/postgres"))
      ),
      slot: Config.schema(Identifier, "CDC_SLOT").pipe(Config.withDefault(defaults.slot)),
      publication: Config.schema(Identifier, "CDC_PUBLICATION").pipe(Config.withDefault(defaults.publication)),
      schemas: Config.schema(SchemaList, "CDC_SCHEMAS").pipe(
        Config.map((s) => s.split(",")),
        Config.withDefault<ReadonlyArray<string>>(defaults.schemas)
      ),
      partitions: Cdc.partitionsConfig,
      metricsPort: Config.Int("CDC_METRICS_PORT").pipe(Config.withDefault(defaults.metricsPort)),
      metricsHost: Config.String("CDC_METRICS_HOST").pipe(Config.withDefault(defaults.metricsHost)),
      batchSize: Config.Int("CDC_BATCH_SIZE").pipe(Config.withDefault(defaults.batchSize)),
      snapshotPageSize: Config.Int("CDC_SNAPSHOT_PAGE_SIZE").pipe(Config.withDefault(defaults.snapshotPageSize)),
      lagIntervalMs: Config.Int("CDC_LAG_INTERVAL_MS").pipe(Config.withDefault(defaults.lagIntervalMs)),
      streamMaxLen: Config.Int("CDC_STREAM_MAXLEN").pipe(Config.withDefault(defaults.streamMaxLen)),
      retentionKeepMs: Config.Int("CDC_RETENTION_KEEP_MS").pipe(Config.withDefault(defaults.retentionKeepMs)),
      standbyPollMs: Config.Int("CDC_STANDBY_POLL_MS").pipe(Config.withDefault(defaults.standbyPollMs)),
      waitReplicas: Config.Int("CDC_REDIS_WAIT_REPLICAS").pipe(Config.withDefault(defaults.waitReplicas)),
      columnFilters: Config.schema(Schema.fromJsonString(ColumnFilter.Rules), "CDC_COLUMN_FILTERS").pipe(
        Config.withDefault(defaults.columnFilters)
      )
    })
    return yield* make(options)
  })
)
