// Rebuilds a read model from scratch without downtime: generation N+1 is built beside the
// generation N that readers use, from a fresh snapshot plus the stream tail, and readers and
// projectors are then switched over at once (platform ReadModel.ts). It takes the read model's
// Projection value (platform Projection.ts); scripts/rebuild.ts is its command line.
//
//   1. Note each source stream's last entry id and create the N+1 consumer groups there.
//   2. Copy the sources (or the projection's `snapshotSources`: the credentials are read from the
//      customer master, whose private copy their stream is) in a snapshot exported by a temporary
//      replication slot (FreshSnapshot.ts) and project the rows into N+1 at the snapshot's LSN L.
//   3. Run the N+1 projector on the tail (what arrived since step 1). Changes committed before L
//      are in the snapshot already and are dropped by position. Caught up means: the CDC
//      connector has confirmed L to PostgreSQL (every change committed before L is in the
//      streams), and each N+1 group has handled its stream up to the last entry seen after that.
//   4. Switch the pointer (compare-and-set, SET + PUBLISH). The rebuild's projector keeps N+1
//      current and announces its writes from now on; projector processes follow the pointer
//      and take over N+1 when it stops.
//   5. After a grace period (readers that resolved N before the switch finish with it), stop
//      and delete generation N's documents and consumer groups.
// A rebuild that failed before the switch leaves readers on N; its half-built N+1 is deleted
// the next time. One rebuild per read model runs at a time (a lease).
import { Cdc } from "@bank/contracts"
import { Keys, ReadModel } from "@bank/platform"
import type { Projection, RawEntry } from "@bank/platform"
import { Effect, Exit, Schema, Scope } from "effect"
import { Redis } from "effect/persistence/Redis"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import * as FreshSnapshot from "./FreshSnapshot.ts"
import * as PgConnection from "./PgConnection.ts"

export interface RebuildOptions {
  readonly databaseUrl: string
  /** The CDC connector's publication and slot (CDC_PUBLICATION, CDC_SLOT). */
  readonly publication: string
  readonly slot: string
  /** Partitions of each CDC stream (CDC_PARTITIONS). */
  readonly partitions: number
  /** How long readers may still read the old generation after the switch (default 30 s). */
  readonly graceMs?: number
  /** How long the connector and the tail may take to catch up (default 10 min). */
  readonly catchUpTimeoutMs?: number
  readonly pageSize?: number
  readonly onProgress?: (event: RebuildProgress) => void
}

export type RebuildProgress =
  | { readonly step: "start"; readonly from: number; readonly to: number; readonly leftover: number }
  | { readonly step: "snapshot"; readonly rows: number }
  | { readonly step: "snapshot-done"; readonly lsn: string; readonly rows: number }
  /** `connectorAt`: while the CDC connector has not yet confirmed the snapshot's LSN, where it is. */
  | { readonly step: "tail"; readonly lag: number; readonly connectorAt: string | null }
  | { readonly step: "switched"; readonly generation: number }
  | { readonly step: "cleanup"; readonly deleted: number }

export interface RebuildSummary {
  readonly readModel: string
  readonly from: number
  readonly to: number
  readonly snapshotLsn: string
  readonly snapshotRows: number
  readonly snapshotMs: number
  readonly catchUpMs: number
  /** When readers were switched (epoch ms). */
  readonly switchedAt: number
  readonly deletedDocuments: number
  readonly deletedGroups: number
  readonly totalMs: number
}

export class RebuildError extends Schema.TaggedError<RebuildError>()("RebuildError", {
  readModel: Schema.String,
  reason: Schema.Literals(["ConnectorBehind", "CatchUpTimeout"]),
  message: Schema.String
}) {}

/** Stream entry ids compared as (ms, seq). */
export const compareIds = (a: string, b: string): number => {
  const [am = 0n, as = 0n] = a.split("-").map(BigInt)
  const [bm = 0n, bs = 0n] = b.split("-").map(BigInt)
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1
}

const fields = (flat: ReadonlyArray<unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1]
  return out
}

const lastId = (stream: string) =>
  Redis.use((redis) => redis.send<Array<RawEntry>>("XREVRANGE", Keys.stream(stream), "+", "-", "COUNT", "1")).pipe(
    Effect.map((entries) => entries[0]?.[0] ?? "0-0")
  )

/** How far a group is: what it has not read yet, and the oldest entry it has not finished. */
const groupState = (stream: string, group: string) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const key = Keys.stream(stream)
    const info = (yield* redis.send<Array<Array<unknown>>>("XINFO", "GROUPS", key))
      .map(fields)
      .find((g) => g["name"] === group)
    if (!info) return { lastDelivered: "0-0", unread: 0, pending: 0, oldestPending: undefined }
    const pending = Number(info["pending"] ?? 0)
    const [, oldest] = pending > 0 ? yield* redis.send<[number, string | null]>("XPENDING", key, group) : [0, null]
    return {
      lastDelivered: String(info["last-delivered-id"] ?? "0-0"),
      unread: Number(info["lag"] ?? 0),
      pending,
      oldestPending: oldest ?? undefined
    }
  })

/** Any rebuildable CDC projection (platform Projection.ts). */
export type Rebuildable<R> = Projection.Rebuildable<Cdc.RowChanged, Cdc.CdcMessage, R>

export const rebuild = <R>(model: Rebuildable<R>, options: RebuildOptions) =>
  Effect.scoped(
    Effect.gen(function* () {
      const started = Date.now()
      const progress = options.onProgress ?? (() => {})
      const graceMs = options.graceMs ?? 30_000
      const deadline = () => Date.now() + (options.catchUpTimeoutMs ?? 600_000)
      const streams = model.sources.flatMap((system) =>
        Cdc.streams(system, options.partitions).map((spec) => spec.name)
      )
      const groupsOf = (generation: number) => streams.map((stream) => ({ stream, group: model.group(generation) }))
      const drop = (generation: number, onProgress?: (deleted: number) => void) =>
        ReadModel.dropGeneration({
          name: model.name,
          generation,
          groups: groupsOf(generation),
          keys: model.keys(generation, options.partitions),
          ...(model.patterns ? { patterns: model.patterns(generation) } : {}),
          ...(onProgress ? { onProgress } : {})
        })

      yield* ReadModel.holdRebuildLease(model.name, `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`)
      const from = yield* ReadModel.generation(model.name)
      const to = from + 1
      // What an earlier rebuild that did not finish left: `to` (stopped before its switch) and the
      // generation before `from` (stopped during its grace).
      const leftover = yield* drop(to)
      const stale = from > 1 ? yield* drop(from - 1) : { documents: 0 }
      progress({ step: "start", from, to, leftover: leftover.documents + stale.documents })

      // 1. The tail starts after what the streams hold now: the snapshot is taken later.
      for (const { stream, group } of groupsOf(to)) {
        const id = yield* lastId(stream)
        yield* Redis.use((redis) => redis.send("XGROUP", "CREATE", Keys.stream(stream), group, id, "MKSTREAM"))
      }

      // The N+1 projector's scope: it runs from step 3 until the grace after the switch ends.
      const consumers = yield* Scope.fork(yield* Effect.scope)
      const build = Effect.gen(function* () {
        // 2. The snapshot, projected as it is read.
        const snapshotStarted = Date.now()
        let rows = 0
        const snapshot = yield* FreshSnapshot.take({
          databaseUrl: options.databaseUrl,
          publication: options.publication,
          systems: model.snapshotSources ?? model.sources,
          ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
          apply: (system, page) => model.applySnapshot(to, system, page),
          onRows: (n) => progress({ step: "snapshot", rows: (rows += n) })
        })
        const snapshotMs = Date.now() - snapshotStarted
        progress({ step: "snapshot-done", lsn: snapshot.lsn, rows: snapshot.rows })

        // 3. The tail.
        const catchUpStarted = Date.now()
        let switched = false
        yield* model
          .run(to, { snapshotLsn: snapshot.lsn, announce: () => switched, partitions: options.partitions })
          .pipe(Scope.provide(consumers))
        const lag = Effect.map(
          Effect.forEach(groupsOf(to), ({ stream, group }) => groupState(stream, group)),
          (states) => states.reduce((n, s) => n + s.unread + s.pending, 0)
        )

        // Every change committed before the snapshot's LSN must be in the streams first.
        const until = deadline()
        const target = Cdc.lsnToBigInt(snapshot.lsn)
        yield* Effect.scoped(
          Effect.gen(function* () {
            const db = yield* PgConnection.connect(options.databaseUrl, { name: "rebuild-monitor" })
            while (true) {
              const [slot] = yield* db.query(
                "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
                [options.slot]
              )
              const at = slot?.["lsn"] ?? null
              if (at !== null && Cdc.lsnToBigInt(at) >= target) return
              progress({ step: "tail", lag: yield* lag, connectorAt: at })
              if (Date.now() > until) {
                return yield* new RebuildError({
                  readModel: model.name,
                  reason: "ConnectorBehind",
                  message: slot
                    ? `the CDC connector (slot ${options.slot}) is at ${at}, short of the snapshot's ${snapshot.lsn}: is it running?`
                    : `there is no replication slot ${options.slot}: set CDC_SLOT to the connector's slot`
                })
              }
              yield* Effect.sleep(250)
            }
          })
        )
        const targets = yield* Effect.forEach(streams, lastId)
        while (true) {
          const states = yield* Effect.forEach(groupsOf(to), ({ stream, group }) => groupState(stream, group))
          const caughtUp = states.every(
            (s, i) =>
              compareIds(s.lastDelivered, targets[i]!) >= 0 &&
              (s.oldestPending === undefined || compareIds(s.oldestPending, targets[i]!) > 0)
          )
          if (caughtUp) break
          progress({ step: "tail", lag: states.reduce((n, s) => n + s.unread + s.pending, 0), connectorAt: null })
          if (Date.now() > until) {
            return yield* new RebuildError({
              readModel: model.name,
              reason: "CatchUpTimeout",
              message: `generation ${to} did not catch up with the streams in time`
            })
          }
          yield* Effect.sleep(200)
        }
        const catchUpMs = Date.now() - catchUpStarted

        // 4. The switch.
        yield* ReadModel.switchGeneration(model.name, from, to)
        switched = true
        const switchedAt = Date.now()
        progress({ step: "switched", generation: to })
        return { snapshot, snapshotMs, catchUpMs, switchedAt }
      })

      const built = yield* build.pipe(
        // Failed or stopped before the switch: readers never saw `to`; delete what was built of it.
        Effect.onError(() => Scope.close(consumers, Exit.void).pipe(Effect.andThen(Effect.ignore(drop(to)))))
      )

      // 5. Grace, then the old generation goes.
      yield* Effect.sleep(graceMs)
      yield* Scope.close(consumers, Exit.void)
      const dropped = yield* drop(from, (deleted) => progress({ step: "cleanup", deleted }))
      return {
        readModel: model.name,
        from,
        to,
        snapshotLsn: built.snapshot.lsn,
        snapshotRows: built.snapshot.rows,
        snapshotMs: built.snapshotMs,
        catchUpMs: built.catchUpMs,
        switchedAt: built.switchedAt,
        deletedDocuments: dropped.documents,
        deletedGroups: dropped.groups,
        totalMs: Date.now() - started
      } satisfies RebuildSummary
    })
  )
