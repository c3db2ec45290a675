// One connector session, from connecting to the end of the replication stream (an error, or
// the scope closing on shutdown). CdcConnector restarts sessions with backoff.
//
// 1. Leadership: a session-level advisory lock on the control connection, so one connector
//    streams a slot while others wait as standbys; a crashed leader's lock goes with its
//    connection.
// 2. Start: with a snapshot marker in Redis and the slot in PostgreSQL, resume from the slot's
//    confirmed position. Otherwise (first start, Redis lost its data, slot dropped) create the
//    slot with an exported snapshot, copy every table (Snapshot.ts), record the marker, and
//    stream from the slot's consistent point.
// 3. Stream: messages are translated as they arrive and appended in batches; after a batch is
//    in Redis, the end LSN of the last transaction it completed is confirmed to the server.
//    Between transactions a keepalive's WAL position is confirmed too, so WAL that holds none of
//    our tables does not pile up behind the slot.
import { Durability } from "@bank/platform"
import { Effect, Fiber, Option } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as Catalog from "./Catalog.ts"
import { CdcError } from "./CdcError.ts"
import * as CdcErrors from "./CdcError.ts"
import * as Lsn from "./Lsn.ts"
import type { MetricsState } from "./Metrics.ts"
import * as PgConnection from "./PgConnection.ts"
import * as PgOutput from "./PgOutput.ts"
import * as Snapshot from "./Snapshot.ts"
import { type StreamWriter, skipWritten } from "./StreamWriter.ts"
import * as Translator from "./Translator.ts"

export interface SessionOptions {
  readonly databaseUrl: string
  readonly slot: string
  readonly publication: string
  readonly schemas: ReadonlyArray<string>
  /** P of the system streams; a snapshot marker recorded with another P means a new snapshot. */
  readonly partitions: number
  /** Entries per Redis batch, and messages taken from the socket at once. */
  readonly batchSize: number
  readonly snapshotPageSize: number
  readonly standbyPollMs: number
  /** How often the snapshot marker's presence is checked while streaming. */
  readonly markerCheckMs: number
  /** Redis replicas that must have each batch (WAIT) before it is confirmed; 0 for none, -1 for REDIS_WAIT_REPLICAS. */
  readonly waitReplicas: number
  readonly markerKey: string
  readonly writer: StreamWriter
  readonly metrics: MetricsState
}

const STATUS_INTERVAL_MS = 10_000
const SHUTDOWN_GRACE_MS = 10_000

const maxLsn = (a: bigint, b: bigint) => (a > b ? a : b)

/** Waits until this instance holds the slot's lock; meanwhile it is a standby. */
const lead = (control: PgConnection.PgClient, options: SessionOptions) =>
  Effect.gen(function* () {
    let announced = false
    while (true) {
      const [row] = yield* control.query("SELECT pg_try_advisory_lock(hashtext($1))::text AS locked", [
        `@bank/cdc:${options.slot}`
      ])
      if (row?.["locked"] === "true") return
      if (!announced) {
        announced = true
        options.metrics.role = "standby"
        yield* Effect.logInfo("another connector streams this slot; standing by", { slot: options.slot })
      }
      yield* Effect.sleep(options.standbyPollMs)
    }
  })

/** Creates the slot, copies every table and records the marker; returns where to stream from. */
const snapshot = (
  control: PgConnection.PgClient,
  replication: PgConnection.PgClient,
  options: SessionOptions,
  reason: string
) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    yield* Effect.logWarning(`taking a new snapshot: ${reason}`, { slot: options.slot })
    const existing = yield* Catalog.slot(control, options.slot)
    if (existing) yield* control.query("SELECT pg_drop_replication_slot($1)", [options.slot])
    // The exported snapshot lives until the next command on `replication`: it stays idle until
    // the copy has imported it (and START_REPLICATION comes after the copy).
    const created = yield* PgConnection.createSlot(replication, options.slot)
    options.metrics.role = "snapshot"
    const result = yield* Effect.scoped(
      Effect.gen(function* () {
        const db = yield* PgConnection.connect(options.databaseUrl, { name: "cdc-snapshot" })
        return yield* Snapshot.run({
          db,
          snapshotName: created.snapshotName,
          consistentPoint: created.consistentPoint,
          publication: options.publication,
          systems: options.schemas,
          pageSize: options.snapshotPageSize,
          partitions: options.partitions,
          write: options.writer.write,
          onRows: (rows) => void (options.metrics.snapshotRows += rows)
        })
      })
    )
    const marker = {
      lsn: Lsn.format(created.consistentPoint),
      rows: result.rows,
      tables: result.tables,
      partitions: options.partitions,
      completedAt: new Date().toISOString()
    }
    yield* redis
      .send("SET", options.markerKey, JSON.stringify(marker))
      .pipe(Effect.mapError(CdcErrors.redis("recording the snapshot")))
    yield* Effect.logInfo("snapshot complete", marker)
    return created.consistentPoint
  })

/** Where streaming resumes, taking a snapshot first when Redis or the slot lost the state. */
const startingPoint = (control: PgConnection.PgClient, replication: PgConnection.PgClient, options: SessionOptions) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const marker = yield* redis
      .send<string | null>("GET", options.markerKey)
      .pipe(Effect.mapError(CdcErrors.redis("reading the snapshot marker")))
    const slot = yield* Catalog.slot(control, options.slot)
    if (slot && slot.plugin !== "pgoutput") {
      return yield* new CdcError({
        reason: "Database",
        message: `slot ${options.slot} uses plugin ${slot.plugin}, not pgoutput`
      })
    }
    if (!marker)
      return yield* snapshot(
        control,
        replication,
        options,
        slot ? "the slot exists but Redis has no snapshot marker (Redis lost its data)" : "first start"
      )
    if (!slot) return yield* snapshot(control, replication, options, "the snapshot marker exists but the slot is gone")
    const recorded = (JSON.parse(marker) as { partitions?: number }).partitions ?? 1
    if (recorded !== options.partitions) {
      return yield* snapshot(
        control,
        replication,
        options,
        `the streams have ${recorded} partitions, CDC_PARTITIONS says ${options.partitions}: copying everything into the new layout`
      )
    }
    if (slot.walStatus === "lost") {
      return yield* snapshot(
        control,
        replication,
        options,
        "the slot lost WAL it needed (max_slot_wal_keep_size): changes since its position are gone"
      )
    }
    return Lsn.parse(slot.confirmedFlushLsn ?? "0/0")
  })

export const run = (options: SessionOptions) =>
  Effect.scoped(
    Effect.gen(function* () {
      const redis = yield* Redis
      const durability = yield* Durability.DurabilitySettings
      const { metrics } = options
      const control = yield* PgConnection.connect(options.databaseUrl, { name: "cdc-control" })
      const walLevel = yield* Catalog.walLevel(control)
      if (walLevel !== "logical") {
        return yield* new CdcError({
          reason: "Database",
          message: `wal_level is ${walLevel}: change data capture needs wal_level=logical`
        })
      }
      yield* lead(control, options)
      metrics.role = "starting"
      yield* Catalog.ensurePublication(control, options.publication, options.schemas)
      const replication = yield* PgConnection.connect(options.databaseUrl, { name: "cdc-stream", replication: true })
      const from = yield* startingPoint(control, replication, options)
      const written = yield* options.writer.lastPositions
      const skip = skipWritten(written)
      const stream = yield* PgConnection.startReplication(replication, {
        slot: options.slot,
        publication: options.publication,
        from,
        highWater: options.batchSize * 8
      })
      metrics.role = "streaming"
      metrics.confirmedLsn = maxLsn(metrics.confirmedLsn, from)
      yield* Effect.logInfo("streaming", { slot: options.slot, from: Lsn.format(from) })

      const translator = Translator.make(options.partitions)
      let confirmed = from
      let completedEnd = from // end LSN of the newest transaction whose entries are all in Redis
      let idleEnd = from // WAL position of a keepalive received between transactions
      let lastStatusAt = 0
      let markerCheckedAt = Date.now()
      let buffer: Array<Translator.Outgoing> = []
      let pendingEnd: bigint | undefined
      let pendingCommitTime: string | undefined
      let pendingChanges = 0
      let pendingTransactions = 0

      const flush = Effect.gen(function* () {
        const entries = skip(buffer)
        buffer = []
        // Confirmed to PostgreSQL only once on enough replicas: a batch lost with its master in a
        // failover is then streamed again from the slot.
        const waitReplicas = options.waitReplicas >= 0 ? options.waitReplicas : durability.replicas
        const acked = yield* options.writer.write(entries, {
          replicas: waitReplicas,
          timeoutMs: Math.max(5000, durability.timeoutMs)
        })
        if (waitReplicas > 0 && entries.length > 0) {
          if (acked < waitReplicas) {
            return yield* new CdcError({
              reason: "Redis",
              message: `only ${acked} of ${waitReplicas} Redis replicas acknowledged the batch`
            })
          }
        }
        metrics.changes += pendingChanges
        metrics.transactions += pendingTransactions
        pendingChanges = 0
        pendingTransactions = 0
        if (pendingEnd !== undefined) {
          completedEnd = pendingEnd
          pendingEnd = undefined
          if (pendingCommitTime) metrics.lastCommitDelayMs = Date.now() - Date.parse(pendingCommitTime)
        }
      })

      const relationKeys = (message: Extract<PgOutput.PgOutputMessage, { _tag: "Relation" }>) =>
        Catalog.primaryKey(control, { oid: message.relationId }).pipe(
          Effect.map((primaryKey) => {
            const columns = message.columns.map((c) => c.name)
            if (primaryKey.length > 0) return { columns, primaryKey }
            // No primary key: the replica identity's columns (every column with FULL).
            const identity = message.columns.filter((c) => c.isKey).map((c) => c.name)
            return { columns, primaryKey: identity.length > 0 ? identity : columns }
          })
        )

      const handle = (messages: ReadonlyArray<PgOutput.ServerMessage>) =>
        Effect.gen(function* () {
          let replyRequested = false
          for (const message of messages) {
            if (message._tag === "Keepalive") {
              replyRequested ||= message.replyRequested
              if (!translator.inTransaction) idleEnd = maxLsn(idleEnd, message.walEnd)
              continue
            }
            const decoded = yield* Effect.try({ try: () => PgOutput.decode(message.data), catch: CdcErrors.protocol })
            if (decoded._tag === "Relation") {
              const { columns, primaryKey } = yield* relationKeys(decoded)
              translator.defineRelation(decoded.relationId, {
                schema: decoded.schema,
                table: decoded.table,
                columns,
                primaryKey
              })
              continue
            }
            const step = yield* Effect.try({ try: () => translator.apply(decoded), catch: CdcErrors.protocol })
            for (const entry of step.entries) {
              buffer.push(entry)
              if (entry.payload._tag === "RowChanged") pendingChanges++
            }
            if (step.committedEndLsn !== undefined) {
              pendingEnd = step.committedEndLsn
              pendingTransactions++
              if (decoded._tag === "Commit") pendingCommitTime = Lsn.timestampToIso(decoded.commitTime)
            }
            if (buffer.length >= options.batchSize) yield* flush
          }
          yield* flush
          const ackable = maxLsn(completedEnd, translator.inTransaction ? completedEnd : idleEnd)
          if (ackable > confirmed || replyRequested || Date.now() - lastStatusAt >= STATUS_INTERVAL_MS) {
            confirmed = maxLsn(confirmed, ackable)
            yield* stream.confirm(confirmed)
            lastStatusAt = Date.now()
            metrics.confirmedLsn = confirmed
          }
        })

      const markerCheck = Effect.gen(function* () {
        if (Date.now() - markerCheckedAt < options.markerCheckMs) return
        markerCheckedAt = Date.now()
        const exists = yield* redis
          .send<number>("EXISTS", options.markerKey)
          .pipe(Effect.mapError(CdcErrors.redis("checking the snapshot marker")))
        if (exists === 0) {
          return yield* new CdcError({
            reason: "Redis",
            message: "the snapshot marker vanished from Redis (data lost or flushed): restarting with a new snapshot"
          })
        }
      })

      // Shutdown cuts short a wait for messages, but a batch that was taken is written and
      // confirmed first (within a grace period); then the scope ends the stream with CopyDone.
      let phase: "waiting" | "handling" = "waiting"
      let stopping = false
      const loop = Effect.gen(function* () {
        while (!stopping) {
          phase = "waiting"
          const messages = yield* stream.take(options.batchSize).pipe(Effect.timeoutOption(1000))
          phase = "handling"
          yield* handle(Option.getOrElse(messages, () => []))
          yield* markerCheck
        }
      })
      const fiber = yield* Effect.forkScoped(loop)
      yield* Effect.addFinalizer(() =>
        Effect.gen(function* () {
          stopping = true
          if (phase === "waiting") return yield* Fiber.interrupt(fiber)
          const finished = yield* Fiber.await(fiber).pipe(Effect.timeoutOption(SHUTDOWN_GRACE_MS))
          if (finished._tag === "None") yield* Fiber.interrupt(fiber)
        })
      )
      return yield* Fiber.join(fiber)
    })
  )
