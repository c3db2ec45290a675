// Replays a range of a CDC stream into a read model's projection, for repairs: a document that
// was lost or damaged gets the changes of that range again. The projection's own guards make
// this safe at any time, next to the running projector: what a document already reflects (its
// positions) is skipped, so replaying a range twice changes nothing the second time.
//
// Entries are read a page at a time (StreamLog.read) and handed to the read model in stream
// order; a database transaction applies only when its commit entry is in the range, so a range
// that cuts one in two leaves its rows out and says so.
import { Cdc } from "@bank/contracts"
import { ReadModel, StreamLog } from "@bank/platform"
import { Effect, Schema, Stream } from "effect"
import type { Rebuildable } from "./Rebuild.ts"

export interface ReplayOptions {
  /** The stream, e.g. `cdc.deposits.p2` (a partition of a system's stream). */
  readonly stream: string
  /** First entry id (inclusive), or "-" for the oldest. */
  readonly from: string
  /** Last entry id (inclusive); default the newest when the replay reaches it. */
  readonly to?: string
  /** The generation written (default the one readers use). */
  readonly generation?: number
  readonly pageSize?: number
  readonly onProgress?: (entries: number, lastId: string) => void
}

export interface ReplaySummary {
  readonly readModel: string
  readonly stream: string
  readonly generation: number
  readonly entries: number
  /** Entries that are not CDC messages this reader understands: skipped. */
  readonly undecodable: number
  readonly units: number
  readonly changed: number
  /** Rows of transactions whose commit lies outside the range: not applied. */
  readonly unfinishedRows: number
  readonly warnings: ReadonlyArray<string>
  readonly lastId: string | null
  readonly ms: number
}

export class ReplayError extends Schema.TaggedError<ReplayError>()("ReplayError", {
  readModel: Schema.String,
  message: Schema.String
}) {}

export const replay = <R>(model: Rebuildable<R>, options: ReplayOptions) =>
  Effect.gen(function* () {
    const started = Date.now()
    const system = model.sources.find((s) => s === Cdc.systemOfStream(options.stream))
    if (system === undefined) {
      return yield* new ReplayError({
        readModel: model.name,
        message: `${model.name} is not built from ${options.stream}; it reads the partitions of ${model.sources.map((s) => `cdc.${s}`).join(", ")} (e.g. cdc.${model.sources[0]}.p0)`
      })
    }
    const spec = Cdc.partition(system, Number(/\.p(\d+)$/.exec(options.stream)?.[1] ?? 0))
    const generation = options.generation ?? (yield* ReadModel.generation(model.name))
    const replayer = model.replayer(generation, system)
    const log = yield* StreamLog.StreamLog
    const totals = {
      entries: 0,
      undecodable: 0,
      units: 0,
      changed: 0,
      warnings: [] as Array<string>,
      lastId: null as string | null
    }
    yield* Stream.runForEachArray(
      log.read(spec, {
        from: options.from,
        ...(options.to ? { to: options.to } : {}),
        pageSize: options.pageSize ?? 500
      }),
      (page) =>
        Effect.gen(function* () {
          const entries = page.flatMap((e) => ("payload" in e ? [{ entryId: e.entryId, payload: e.payload }] : []))
          totals.undecodable += page.length - entries.length
          totals.entries += page.length
          const counts = yield* replayer.feed(entries)
          totals.units += counts.units
          totals.changed += counts.changed
          totals.warnings.push(...counts.warnings)
          const last = page.at(-1)
          if (last) totals.lastId = last.entryId
          options.onProgress?.(totals.entries, totals.lastId ?? "")
        })
    )
    return {
      readModel: model.name,
      stream: options.stream,
      generation,
      ...totals,
      unfinishedRows: replayer.unfinished(),
      ms: Date.now() - started
    } satisfies ReplaySummary
  })
