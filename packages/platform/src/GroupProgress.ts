// How far each consumer group is on its stream, read from Redis itself (XINFO GROUPS, XLEN),
// so readiness, the /metrics endpoints and the dead-letter tools see the same numbers whichever
// process asks: `lag` entries not yet delivered to the group, `pending` delivered but not yet
// acknowledged, and the depth of the stream's dead-letter stream.
import { Effect } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as Keys from "./Keys.ts"

export interface GroupState {
  readonly stream: string
  readonly group: string
  /** Entries the group has not been given yet (Redis 7's `lag`; estimated when Redis cannot tell). */
  readonly lag: number
  /** Entries given to a consumer and not acknowledged yet. */
  readonly pending: number
  readonly consumers: number
}

/** RESP2 flat [name, value, ...] lists as an object. */
export const fields = (raw: unknown): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  if (Array.isArray(raw)) for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = raw[i + 1]
  else if (raw && typeof raw === "object") Object.assign(out, raw)
  return out
}

const isMissingStream = (error: { readonly cause?: unknown }) => /no such key/i.test(String(error.cause))

/** Every group of one stream (by its name, e.g. `cdc.customer`); none when the stream does not exist. */
export const ofStream = (stream: string) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const key = Keys.stream(stream)
    const groups = yield* redis
      .send<Array<unknown>>("XINFO", "GROUPS", key)
      .pipe(Effect.catchIf(isMissingStream, () => Effect.succeed([] as Array<unknown>)))
    if (groups.length === 0) return [] as Array<GroupState>
    const info = fields(yield* redis.send<unknown>("XINFO", "STREAM", key))
    const lastId = String(info["last-generated-id"] ?? "0-0")
    const length = Number(info["length"] ?? 0)
    return groups.map((raw): GroupState => {
      const g = fields(raw)
      const entriesRead = g["entries-read"] == null ? 0 : Number(g["entries-read"])
      // Redis answers nil for `lag` after deletions/trims it cannot account for.
      const lag =
        g["lag"] == null
          ? String(g["last-delivered-id"]) === lastId
            ? 0
            : Math.max(1, length - entriesRead)
          : Number(g["lag"])
      return {
        stream,
        group: String(g["name"]),
        lag,
        pending: Number(g["pending"] ?? 0),
        consumers: Number(g["consumers"] ?? 0)
      }
    })
  })

/** One group's state; undefined when the stream or the group does not exist (yet). */
export const state = (stream: string, group: string) =>
  ofStream(stream).pipe(Effect.map((groups) => groups.find((g) => g.group === group)))

/** Entries waiting in a stream's dead-letter stream. */
export const deadLetterDepth = (stream: string) =>
  Redis.use((redis) => redis.send<number>("XLEN", Keys.deadLetter(stream))).pipe(Effect.map(Number))

// The groups this process reads, for its /metrics (Management.ts): ConsumerGroup.ensure
// registers each group when a consumer starts.
const watching = new Map<string, { readonly stream: string; readonly group: string }>()

/** Export this group's lag, pending and dead-letter depth on this process's /metrics. */
export const watch = (ref: { readonly stream: string; readonly group: string }): void => {
  watching.set(`${ref.stream}\u0000${ref.group}`, { stream: ref.stream, group: ref.group })
}

/** The groups `watch` registered. */
export const watched = (): ReadonlyArray<{ readonly stream: string; readonly group: string }> => [...watching.values()]
