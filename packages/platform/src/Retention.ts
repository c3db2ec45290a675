// Retention that never drops an unread change. A stream is trimmed only below the oldest entry
// some consumer group on it still needs: for each group, its oldest pending entry, or else the
// entry after the last one delivered to it (Redis 7.0 has no XACKDEL / ACKED trimming, so this
// is built from XINFO GROUPS, XPENDING and XTRIM MINID). Entries younger than `keepMs` stay as
// well, so `replay` has a window to repair from. A group that does not read (a projector that is
// down, a forgotten group) pins the stream: its entries pile up until the stream reaches `maxLen`,
// the emergency brake. Reaching it is loud: the entries beyond it are trimmed, an error log names
// every group that loses unread changes, the stream's cap counter goes up, and each such group
// gets a marker (`lostKey`) that makes its read model "stale" on readiness until a rebuild (which
// reads from new groups and deletes the old ones' markers) or an operator clears it.
//
// Memory: a retained CDC change costs about 850 bytes of Redis memory (MEMORY USAGE / XLEN on a
// cdc.deposits partition with the demo data). With every group caught up a stream holds about
// `keepMs` of changes (default 15 minutes: 1,000 changes/s ≈ 0.77 GB over all streams); the cap
// bounds the worst case (default 1,000,000 entries per partition ≈ 0.85 GB each).
import { Effect, Schedule } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as Keys from "./Keys.ts"
import { nextId } from "./StreamLog.ts"

/** Marks that `group` lost unread entries of `stream` to the cap; JSON {at, firstKept, needed}. */
export const lostKey = (stream: string, group: string): string => Keys.global(`retention:lost:${stream}:${group}`)

const compareIds = (a: string, b: string): number => {
  const [am = 0n, as = 0n] = a.split("-").map(BigInt)
  const [bm = 0n, bs = 0n] = b.split("-").map(BigInt)
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1
}

const fields = (raw: unknown): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  if (Array.isArray(raw)) for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = raw[i + 1]
  return out
}

export interface TrimOptions {
  /** The stream's name (e.g. `cdc.deposits.p2`). */
  readonly stream: string
  /** The emergency brake: entries kept at most. */
  readonly maxLen: number
  /** Entries younger than this stay even when every group is done with them (a replay window). */
  readonly keepMs: number
}

export interface TrimResult {
  readonly stream: string
  readonly trimmed: number
  readonly length: number
  /** Groups that lost unread entries because the stream reached `maxLen`. */
  readonly capped: ReadonlyArray<string>
}

/** Cap trims per stream since this process started (for metrics). */
const capTrims = new Map<string, number>()
export const capTrimCounts = (): ReadonlyMap<string, number> => new Map(capTrims)

/** Trims one stream as far as its groups and `keepMs` allow, then to `maxLen` (loudly) if still longer. */
export const trim = Effect.fn("Retention.trim")(function* (options: TrimOptions) {
  const redis = yield* Redis
  const key = Keys.stream(options.stream)
  const groups = yield* redis.send<Array<unknown>>("XINFO", "GROUPS", key).pipe(
    Effect.catchIf(
      (e) => /no such key/i.test(String(e.cause)),
      () => Effect.succeed([] as Array<unknown>)
    )
  )
  // What each group still needs: its oldest pending entry, else what comes after its last delivered one.
  const needs = new Map<string, string>()
  for (const raw of groups) {
    const g = fields(raw)
    const name = String(g["name"])
    const pending = Number(g["pending"] ?? 0)
    const oldest = pending > 0 ? (yield* redis.send<[number, string | null]>("XPENDING", key, name))[1] : null
    needs.set(name, oldest ?? nextId(String(g["last-delivered-id"] ?? "0-0")))
  }
  const keepFrom = `${Math.max(0, Date.now() - options.keepMs)}-0`
  const floor = [...needs.values(), keepFrom].reduce((a, b) => (compareIds(a, b) <= 0 ? a : b))
  let trimmed = yield* redis.send<number>("XTRIM", key, "MINID", "~", floor)
  let length = yield* redis.send<number>("XLEN", key)
  if (length <= options.maxLen) return { stream: options.stream, trimmed, length, capped: [] } satisfies TrimResult

  trimmed += yield* redis.send<number>("XTRIM", key, "MAXLEN", String(options.maxLen))
  length = yield* redis.send<number>("XLEN", key)
  const [first] = yield* redis.send<Array<[string, unknown]>>("XRANGE", key, "-", "+", "COUNT", "1")
  const firstKept = first?.[0] ?? "0-0"
  const capped = [...needs].filter(([, needed]) => compareIds(needed, firstKept) < 0).map(([group]) => group)
  capTrims.set(options.stream, (capTrims.get(options.stream) ?? 0) + 1)
  for (const group of capped) {
    yield* redis.send(
      "SET",
      lostKey(options.stream, group),
      JSON.stringify({ at: new Date().toISOString(), firstKept, needed: needs.get(group) })
    )
  }
  yield* Effect.logError(
    `stream ${options.stream} reached its retention cap of ${options.maxLen} entries: ` +
      (capped.length > 0
        ? `consumer group(s) ${capped.join(", ")} lost unread changes; their read models are stale until rebuilt (scripts/rebuild.ts)`
        : "no group had unread changes among the entries trimmed"),
    { stream: options.stream, maxLen: options.maxLen, groups: capped, firstKept }
  )
  return { stream: options.stream, trimmed, length, capped } satisfies TrimResult
})

/** Which of `groups` lost unread entries to a cap (their read model is stale). */
export const lostGroups = (groups: ReadonlyArray<{ readonly stream: string; readonly group: string }>) =>
  Effect.gen(function* () {
    if (groups.length === 0) return []
    const redis = yield* Redis
    const found = yield* Effect.forEach(groups, (g) => redis.send<number>("EXISTS", lostKey(g.stream, g.group)))
    return groups.filter((_, i) => Number(found[i]) > 0)
  })

export interface RunOptions {
  /** The streams to keep trimmed (names), read again each round. */
  readonly streams: Effect.Effect<ReadonlyArray<string>>
  readonly maxLen: number
  readonly keepMs: number
  /** Time between rounds (default 5 s). */
  readonly everyMs?: number
}

/** Trims `streams` every `everyMs` in the background of the current scope. */
export const run = (options: RunOptions) =>
  Effect.forkScoped(
    Effect.gen(function* () {
      const streams = yield* options.streams
      yield* Effect.forEach(streams, (stream) => trim({ stream, maxLen: options.maxLen, keepMs: options.keepMs }), {
        discard: true
      })
    }).pipe(
      Effect.catchCause((cause) => Effect.logWarning("stream retention round failed; trying again next round", cause)),
      Effect.repeat(Schedule.spaced(options.everyMs ?? 5000))
    )
  )
