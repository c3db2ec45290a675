// Whether the read models a process serves from can be trusted: "ready means ready". A read
// model is
//   - loading   until its source has been loaded once (the CDC snapshot marker is in Redis) and
//               every consumer group feeding it has read and acknowledged all of it;
//   - lagging   once loaded, while a group has more than `maxLag` entries unread or unacknowledged;
//   - stale     while someone marked it so (`staleKey`, e.g. an operator during a repair), or
//               a group feeding it lost unread changes to a stream's retention cap
//               (Retention.ts) until a rebuild moves it to new groups;
//   - ready     otherwise.
// Each capability describes its read models (`ReadModelSource`); the edge asks for all of them on
// /readyz and the identity actor for the credentials before it calls an unknown username unknown.
// Once a read model has caught up with a snapshot, `loadedKey` records which one (the marker's
// value), so every process, also one started later on a busy system, counts a later backlog as
// lag; a new snapshot (Redis lost its data) makes it load again.
import { Config, Context, Effect, Layer } from "effect"
import { Redis, type RedisError } from "effect/persistence/Redis"
import * as GroupProgress from "./GroupProgress.ts"
import * as Keys from "./Keys.ts"
import * as Retention from "./Retention.ts"

export interface ReadModelSource {
  readonly name: string
  /** Stream names (e.g. `cdc.customer`) and the group that reads each into this read model. */
  readonly groups: Effect.Effect<ReadonlyArray<{ readonly stream: string; readonly group: string }>, RedisError, Redis>
  /** True when its streams are filled by the CDC connector, whose snapshot must be complete first. */
  readonly fedByCdc: boolean
}

export type Status = "loading" | "lagging" | "stale" | "ready"

export interface ReadModelState {
  readonly status: Status
  /** Entries not yet applied, over every feeding group (unread plus unacknowledged). */
  readonly behind: number
}

export interface Report {
  readonly ready: boolean
  readonly readModels: Readonly<Record<string, ReadModelState>>
}

/** Set (any value) to keep a read model out of service until deleted. */
export const staleKey = (name: string): string => Keys.global(`readmodel:${name}:stale`)
/** How many documents the last reconciliation (scripts/reconcile.ts) found differing. */
export const driftKey = (name: string): string => Keys.global(`readmodel:${name}:drift`)
/** The snapshot marker value a read model has caught up with. */
export const loadedKey = (name: string): string => Keys.global(`readmodel:${name}:loaded`)

export class Readiness extends Context.Service<
  Readiness,
  {
    readonly check: Effect.Effect<Report, RedisError>
    /** One read model's status (e.g. "credentials" in the identity actor). */
    readonly of: (name: string) => Effect.Effect<ReadModelState, RedisError>
    /** Prometheus gauges: readmodel_ready, readmodel_behind, readmodel_drift per read model. */
    readonly prometheus: Effect.Effect<string, RedisError>
  }
>()("@bank/platform/Readiness") {}

export interface Options {
  readonly readModels: ReadonlyArray<ReadModelSource>
  /** The CDC snapshot marker (CdcConnector.keys(slot).snapshot); absent: no read model waits for it. */
  readonly cdcSnapshotMarker?: string
  /** Entries a loaded read model may be behind before it counts as lagging (default 10,000). */
  readonly maxLag?: number
}

export const make = (options: Options) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const maxLag = options.maxLag ?? 10_000
    const byName = new Map(options.readModels.map((m) => [m.name, m]))

    const stateOf = (model: ReadModelSource): Effect.Effect<ReadModelState, RedisError> =>
      Effect.gen(function* () {
        const marker = model.fedByCdc && options.cdcSnapshotMarker !== undefined ? options.cdcSnapshotMarker : undefined
        const [stale, snapshot, loadedAt] = yield* Effect.all([
          redis.send<number>("EXISTS", staleKey(model.name)),
          marker === undefined ? Effect.succeed("none") : redis.send<string | null>("GET", marker),
          redis.send<string | null>("GET", loadedKey(model.name))
        ])
        const groups = yield* model.groups
        const lost = yield* Retention.lostGroups(groups)
        const states = yield* Effect.forEach(groups, ({ stream, group }) => GroupProgress.state(stream, group))
        // A group that does not exist yet has not read anything.
        const created = states.every((s) => s !== undefined)
        const behind = states.reduce((sum, s) => sum + (s ? s.lag + s.pending : 0), 0)
        if (Number(stale) > 0 || lost.length > 0) return { status: "stale", behind } as const
        if (snapshot === null) return { status: "loading", behind } as const
        if (loadedAt !== snapshot) {
          if (!created || behind > 0) return { status: "loading", behind } as const
          yield* redis.send("SET", loadedKey(model.name), snapshot)
        }
        return { status: behind > maxLag ? "lagging" : "ready", behind } as const
      }).pipe(Effect.provideService(Redis, redis))

    const check = Effect.forEach(options.readModels, (m) => stateOf(m).pipe(Effect.map((s) => [m.name, s] as const)), {
      concurrency: "unbounded"
    }).pipe(
      Effect.map(
        (entries): Report => ({
          ready: entries.every(([, s]) => s.status === "ready"),
          readModels: Object.fromEntries(entries)
        })
      )
    )
    const of = (name: string) => {
      const model = byName.get(name)
      return model ? stateOf(model) : Effect.succeed<ReadModelState>({ status: "ready", behind: 0 })
    }
    const prometheus = Effect.gen(function* () {
      const report = yield* check
      const lines = [
        "# HELP readmodel_ready 1 when the read model has loaded and is neither lagging nor marked stale.",
        "# TYPE readmodel_ready gauge",
        "# HELP readmodel_behind Entries not yet applied to the read model, over its feeding groups.",
        "# TYPE readmodel_behind gauge",
        "# HELP readmodel_drift Documents the last reconciliation found differing from the systems of record.",
        "# TYPE readmodel_drift gauge"
      ]
      for (const [name, state] of Object.entries(report.readModels)) {
        const drift = yield* redis.send<string | null>("GET", driftKey(name))
        lines.push(
          `readmodel_ready{read_model="${name}"} ${state.status === "ready" ? 1 : 0}`,
          `readmodel_behind{read_model="${name}"} ${state.behind}`
        )
        if (drift !== null) lines.push(`readmodel_drift{read_model="${name}"} ${Number(drift)}`)
      }
      return `${lines.join("\n")}\n`
    })
    return Readiness.of({ check, of, prometheus })
  })

export const layer = (options: Options): Layer.Layer<Readiness, never, Redis> => Layer.effect(Readiness, make(options))

/**
 * The read models given, with the CDC snapshot marker from `cdcSnapshotMarker` (the connector's
 * CDC_SLOT) and READINESS_MAX_LAG (entries, default 10,000).
 */
export const layerConfig = (readModels: ReadonlyArray<ReadModelSource>, cdcSnapshotMarker: Config.Config<string>) =>
  Layer.effect(
    Readiness,
    Effect.gen(function* () {
      const config = yield* Config.all({
        cdcSnapshotMarker,
        maxLag: Config.Int("READINESS_MAX_LAG").pipe(Config.withDefault(10_000))
      })
      return yield* make({ readModels, ...config })
    })
  )
