// The named primitives every consumer of a stream is built from, in both modes of the consumer
// engine (Actor.ts: shared; OwnedPartitions.ts: partition-owned). Each is one Redis step with
// one meaning, so the two modes cannot drift apart again:
// - `ensure`: the group exists (XGROUP CREATE ... MKSTREAM, BUSYGROUP ignored);
// - `recoverGroup`: a step that failed with NOGROUP (Redis lost its data, FLUSHALL, a group
//   destroyed by a rebuild's cleanup) makes the group again and is retried once;
// - `deadLetter`: an entry moves to its dead-letter stream and is acknowledged atomically
//   (lua/deadLetter.lua; the two keys share the stream's hash tag);
// - `claimIdle` / `claimAll`: entries another consumer left pending become this consumer's;
// - `release`: on shutdown everything this consumer holds becomes claimable at once;
// - `forgetIdleConsumers`: consumers of old processes that hold nothing are deleted.
import { Effect } from "effect"
import { Redis, type RedisError, script } from "effect/persistence/Redis"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import * as GroupProgress from "./GroupProgress.ts"
import * as Keys from "./Keys.ts"
import * as Lua from "./Lua.ts"
import type { RawEntry } from "./StreamLog.ts"

/** A group on one stream: the stream's name (not its key) and the group's name. */
export interface GroupRef {
  readonly stream: string
  readonly group: string
}

/** A process-unique consumer name: `<group>-<host>-<pid>-<random>`. */
export const consumerName = (group: string): string =>
  `${group}-${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`

const isError =
  (text: string) =>
  (error: RedisError): boolean =>
    String(error.cause).includes(text)

/** Whether a Redis failure says the group (or its stream) is gone. */
export const isNoGroup = isError("NOGROUP")

/** Creates the group (and the stream) unless it exists; a new group starts at `startFrom`. */
export const ensure = (ref: GroupRef, startFrom: "0" | "$" | string = "0") =>
  Redis.use((redis) => redis.send("XGROUP", "CREATE", Keys.stream(ref.stream), ref.group, startFrom, "MKSTREAM")).pipe(
    Effect.catchIf(isError("BUSYGROUP"), () => Effect.void),
    // This process reads the group from now on: its /metrics shows the group's progress.
    Effect.tap(() => Effect.sync(() => GroupProgress.watch(ref))),
    Effect.asVoid
  )

/** Runs `step`; when it fails because the group is gone, makes the group again and runs it once more. */
export const recoverGroup = <A, E, R>(ref: GroupRef, startFrom: "0" | "$", step: Effect.Effect<A, E | RedisError, R>) =>
  step.pipe(
    Effect.catchIf(
      (e): e is RedisError =>
        typeof e === "object" &&
        e !== null &&
        (e as { _tag?: string })._tag === "RedisError" &&
        isNoGroup(e as RedisError),
      () =>
        Effect.logWarning("consumer group missing (Redis lost its data?); creating it again", ref).pipe(
          Effect.andThen(ensure(ref, startFrom)),
          Effect.andThen(step)
        )
    )
  )

const deadLetterScript = script(
  (stream: string, dead: string, group: string, entryId: string, maxLen: number, fields: ReadonlyArray<string>) => [
    stream,
    dead,
    group,
    entryId,
    maxLen,
    ...fields
  ],
  { lua: Lua.source("deadLetter"), numberOfKeys: 2 }
).withReturnType<string>()

/** Entries kept in a dead-letter stream (approximately). */
export const DEAD_LETTER_MAX_LEN = 100_000

export interface DeadLetter {
  readonly entryId: string
  /** The entry's original fields, kept as they were. */
  readonly fields: ReadonlyArray<string>
  readonly error: string
  readonly deliveries: number
  readonly consumer: string
}

/** Moves an entry to `<stream>:dead` with why, and acknowledges it, in one atomic step. */
export const deadLetter = (ref: GroupRef, entry: DeadLetter) =>
  Redis.use((redis) =>
    redis.eval(deadLetterScript)(
      Keys.stream(ref.stream),
      Keys.deadLetter(ref.stream),
      ref.group,
      entry.entryId,
      DEAD_LETTER_MAX_LEN,
      [
        ...entry.fields,
        "dead.entry",
        entry.entryId,
        "dead.group",
        ref.group,
        "dead.consumer",
        entry.consumer,
        "dead.error",
        entry.error.slice(0, 4000),
        "dead.deliveries",
        String(entry.deliveries),
        "dead.at",
        new Date().toISOString()
      ]
    )
  ).pipe(
    Effect.tap(() =>
      Effect.logWarning("message dead-lettered", {
        ...ref,
        entryId: entry.entryId,
        deliveries: entry.deliveries,
        error: entry.error.slice(0, 500)
      })
    )
  )

/** Acknowledges entries this group is done with. */
export const acknowledge = (ref: GroupRef, ids: ReadonlyArray<string>) =>
  ids.length === 0
    ? Effect.void
    : Redis.use((redis) => redis.send("XACK", Keys.stream(ref.stream), ref.group, ...ids)).pipe(Effect.asVoid)

/** A pending entry as XPENDING's extended form lists it. */
export interface Pending {
  readonly id: string
  readonly consumer: string
  readonly idleMs: number
  readonly deliveries: number
}

/** Up to `count` entries pending longer than `idleMs` (any consumer), oldest first. */
export const pendingIdle = (ref: GroupRef, idleMs: number, count: number) =>
  Redis.use((redis) =>
    redis.send<Array<[string, string, number, number]>>(
      "XPENDING",
      Keys.stream(ref.stream),
      ref.group,
      "IDLE",
      String(idleMs),
      "-",
      "+",
      String(count)
    )
  ).pipe(
    Effect.map((rows) =>
      rows.map(
        ([id, consumer, idle, deliveries]): Pending => ({
          id,
          consumer,
          idleMs: Number(idle),
          deliveries: Number(deliveries)
        })
      )
    )
  )

/** The entries themselves (one XRANGE each); entries trimmed away come back without fields. */
export const entry = (ref: GroupRef, id: string) =>
  Redis.use((redis) => redis.send<Array<RawEntry>>("XRANGE", Keys.stream(ref.stream), id, id)).pipe(
    Effect.map((e) => e[0]?.[1])
  )

/**
 * Makes `ids` this consumer's if they are still idle for `idleMs` (XCLAIM); returns the live
 * entries. One trimmed from the stream while pending comes back empty: the claim acknowledges it
 * and reports it, as retention must never have let that happen (Retention.ts).
 */
export const claimIdle = (ref: GroupRef, consumer: string, idleMs: number, ids: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    if (ids.length === 0) return []
    const redis = yield* Redis
    const claimed = yield* redis.send<Array<RawEntry | null>>(
      "XCLAIM",
      Keys.stream(ref.stream),
      ref.group,
      consumer,
      String(idleMs),
      ...ids
    )
    return yield* liveOnly(ref, claimed)
  })

const liveOnly = (ref: GroupRef, claimed: ReadonlyArray<RawEntry | null>) =>
  Effect.gen(function* () {
    const live = claimed.filter((e): e is RawEntry => e !== null && e[1] !== null)
    if (live.length < claimed.length) {
      yield* Effect.logError(
        "pending entries were trimmed from the stream before this group handled them: a change was lost; rebuild the read model",
        {
          ...ref,
          lost: claimed.length - live.length
        }
      )
    }
    return live
  })

/**
 * Takes every entry of the group still pending, whoever holds it, in stream order, a page at a
 * time (XAUTOCLAIM from 0 with no idle time): what a partition's new owner does first.
 */
export const claimAll = <A, E, R>(
  ref: GroupRef,
  consumer: string,
  pageSize: number,
  handle: (entries: ReadonlyArray<RawEntry>) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    let cursor = "0-0"
    let claimed = 0
    do {
      const [next, page, deleted] = yield* redis.send<[string, Array<RawEntry | null>, Array<string>?]>(
        "XAUTOCLAIM",
        Keys.stream(ref.stream),
        ref.group,
        consumer,
        "0",
        cursor,
        "COUNT",
        String(pageSize)
      )
      if (deleted && deleted.length > 0) {
        yield* Effect.logError(
          "pending entries were trimmed from the stream before this group handled them: a change was lost; rebuild the read model",
          {
            ...ref,
            lost: deleted.length
          }
        )
      }
      const live = yield* liveOnly(ref, page)
      claimed += live.length
      yield* handle(live)
      cursor = next
    } while (cursor !== "0-0")
    return claimed
  })

const RELEASED_IDLE_MS = 365 * 24 * 3600 * 1000

/**
 * Makes everything `consumer` holds (its pending entries plus `holding`, read but maybe not yet
 * listed) claimable by others at once; a consumer that held nothing is deleted from the group.
 */
export const release = (ref: GroupRef, consumer: string, holding: Iterable<string> = []) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const key = Keys.stream(ref.stream)
    const mine = yield* redis.send<Array<[string, string, number, number]>>(
      "XPENDING",
      key,
      ref.group,
      "-",
      "+",
      "10000",
      consumer
    )
    const ids = new Set([...holding, ...mine.map(([id]) => id)])
    if (ids.size > 0) {
      yield* redis.send("XCLAIM", key, ref.group, consumer, "0", ...ids, "IDLE", String(RELEASED_IDLE_MS), "JUSTID")
    } else {
      yield* redis.send("XGROUP", "DELCONSUMER", key, ref.group, consumer)
    }
    return ids.size
  })

/** Deletes the group's consumers (other than `self`) that hold nothing and were idle longer than `idleMs`. */
export const forgetIdleConsumers = (ref: GroupRef, self: string, idleMs: number) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const key = Keys.stream(ref.stream)
    const consumers = yield* redis.send<Array<Array<string | number>>>("XINFO", "CONSUMERS", key, ref.group)
    let forgotten = 0
    for (const info of consumers) {
      const field = (name: string) => info[info.indexOf(name) + 1]
      if (field("name") !== self && Number(field("pending")) === 0 && Number(field("idle")) > idleMs) {
        forgotten += yield* redis
          .send<number>("XGROUP", "DELCONSUMER", key, ref.group, String(field("name")))
          .pipe(Effect.as(1))
      }
    }
    return forgotten
  })
