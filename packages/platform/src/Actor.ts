// An actor is a consumer group on one stream plus a handler Effect. Delivery is at-least-once:
// - batches come from XREADGROUP ... BLOCK; an entry is acknowledged (XACK) only after its
//   handler succeeded (or after it was moved to the dead-letter stream);
// - a failing handler is retried in place with backoff, so later messages of the same key wait
//   and per-key order holds; each attempt counts as a delivery, and after `maxDeliveries` the
//   entry goes to the dead-letter stream with the error and the delivery count;
// - entries left pending by a consumer that died are claimed (XPENDING IDLE + XCLAIM) after
//   `claimIdleMs` by any live consumer; ones already delivered `maxDeliveries` times (a message
//   that kills its consumer) are dead-lettered instead of being handled again;
// - messages are grouped by key and keys handled concurrently, one key's messages in order;
// - shutdown stops reading, lets the running batch finish within a grace period, and releases
//   whatever it still holds so another consumer takes it at once.
// Handlers that must not repeat a side effect use Idempotency.ts or a guarded document write.
import { Cause, Deferred, Effect, Fiber, FiberSet, Layer, Schedule, Scope, Semaphore } from "effect"
import { Redis, RedisError, script } from "effect/persistence/Redis"
import { hostname } from "node:os"
import { randomBytes } from "node:crypto"
import * as BlockingConnection from "./BlockingConnection.ts"
import * as Envelope from "./Envelope.ts"
import * as Keys from "./Keys.ts"
import * as Lua from "./Lua.ts"
import type { RawEntry } from "./StreamLog.ts"
import type { AnyMessage, StreamSpec } from "./StreamSpec.ts"

export interface ActorOptions<A extends AnyMessage, E, R> {
  /** The consumer group: one per capability that reads the stream. */
  readonly group: string
  readonly stream: StreamSpec<A>
  readonly handle: (message: Envelope.Delivered<A>) => Effect.Effect<void, E, R>
  /** Keys handled in parallel within a batch (default 8). */
  readonly concurrency?: number
  /**
   * Batches handled at once (default 1). Above 1 the next batch is read while earlier ones are
   * still being handled, so a few slow messages do not hold back the rest; a key's messages
   * still wait for that key's messages in earlier batches, so per-key order holds.
   */
  readonly pipeline?: number
  /** Entries per read (default 100). */
  readonly batchSize?: number
  /** How long one read blocks waiting for entries (default 2000 ms). */
  readonly blockMs?: number
  /** How long an entry stays pending before another consumer may claim it (default 30 s). */
  readonly claimIdleMs?: number
  /** Deliveries (attempts) before an entry goes to the dead-letter stream (default 5). */
  readonly maxDeliveries?: number
  /** First in-process retry delay; doubles each time (default 50 ms). */
  readonly retryDelayMs?: number
  /** Where a new group starts: "0" the whole stream (default), "$" only new entries. */
  readonly startFrom?: "0" | "$"
  /** Which messages must be handled in order (default: the envelope key, i.e. the customer). */
  readonly orderingKey?: (message: Envelope.Delivered<A>) => string
  /** How long shutdown waits for the running batch (default 10 s). */
  readonly shutdownGraceMs?: number
  /** Consumer name; default `<group>-<host>-<pid>-<random>`. */
  readonly consumer?: string
}

const deadLetterScript = script(
  (stream: string, dead: string, group: string, entryId: string, maxLen: number, fields: ReadonlyArray<string>) =>
    [stream, dead, group, entryId, maxLen, ...fields],
  { lua: Lua.source("deadLetter"), numberOfKeys: 2 }
).withReturnType<string>()

const DEAD_LETTER_MAX_LEN = 100_000
const RELEASED_IDLE_MS = 365 * 24 * 3600 * 1000

/** Starts the actor in the current scope; closing the scope shuts it down gracefully. */
export const run = <A extends AnyMessage, E, R>(options: ActorOptions<A, E, R>) =>
  Effect.gen(function*() {
    const redis = yield* Redis
    const spec = options.stream
    const group = options.group
    const stream = Keys.stream(spec.name)
    const dead = Keys.deadLetter(spec.name)
    const consumer = options.consumer ?? `${group}-${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`
    const batchSize = options.batchSize ?? 100
    const blockMs = options.blockMs ?? 2000
    const claimIdleMs = options.claimIdleMs ?? 30_000
    const maxDeliveries = Math.max(1, options.maxDeliveries ?? 5)
    const retryDelayMs = options.retryDelayMs ?? 50
    const concurrency = options.concurrency ?? 8
    const pipeline = Math.max(1, options.pipeline ?? 1)
    const orderingKey = options.orderingKey ?? ((m: Envelope.Delivered<A>) => m.key)
    const log = Effect.annotateLogs({ actor: group, consumer, stream: spec.name })

    const ensureGroup = redis.send("XGROUP", "CREATE", stream, group, options.startFrom ?? "0", "MKSTREAM").pipe(
      Effect.catchIf((e) => String(e.cause).includes("BUSYGROUP"), () => Effect.void)
    )
    yield* ensureGroup

    /** Entries read by this consumer and not yet acknowledged. */
    const holding = new Set<string>()
    let stopping = false
    let phase: "reading" | "handling" = "reading"

    const deadLetter = (entryId: string, fields: ReadonlyArray<string>, error: string, deliveries: number) =>
      redis.eval(deadLetterScript)(stream, dead, group, entryId, DEAD_LETTER_MAX_LEN, [
        ...fields,
        "dead.entry", entryId, "dead.group", group, "dead.consumer", consumer,
        "dead.error", error.slice(0, 4000), "dead.deliveries", String(deliveries), "dead.at", new Date().toISOString()
      ]).pipe(
        Effect.tap(() => Effect.sync(() => holding.delete(entryId))),
        Effect.tap(() => Effect.logWarning("message dead-lettered", { entryId, deliveries, error: error.slice(0, 500) }).pipe(log))
      )

    const handleOne = (message: Envelope.Delivered<A>, fields: ReadonlyArray<string>) => {
      const attemptsLeft = Math.max(1, maxDeliveries - message.deliveries + 1)
      let attempts = 0
      return Effect.suspend(() => {
        attempts++
        return options.handle({ ...message, deliveries: message.deliveries + attempts - 1 })
      }).pipe(
        // Defects count as failed deliveries too: a handler bug must not lose the message.
        Effect.sandbox,
        Effect.retry({ schedule: Schedule.exponential(retryDelayMs), times: attemptsLeft - 1 }),
        Effect.as(true),
        Effect.catch((cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.failCause(cause as Cause.Cause<never>)
            : deadLetter(message.entryId, fields, Cause.pretty(cause), message.deliveries + attempts - 1).pipe(Effect.as(false))
        )
      )
    }

    const acknowledge = (ids: ReadonlyArray<string>) =>
      ids.length === 0
        ? Effect.void
        : redis.send("XACK", stream, group, ...ids).pipe(
          Effect.tap(() => Effect.sync(() => ids.forEach((id) => holding.delete(id))))
        )

    /** The last batch still handling each key: a later batch's messages of that key wait for it. */
    /** The last batch still handling each key: a later batch's messages of that key wait for it. */
    const keyTails = new Map<string, Deferred.Deferred<void>>()

    /**
     * Decodes a batch (undecodable entries are dead-lettered), groups it by key and, when batches
     * overlap, queues each key behind its earlier batch right away; returns the handling itself.
     */
    const prepareBatch = (entries: ReadonlyArray<RawEntry>, deliveriesOf: (entryId: string) => number) =>
      Effect.gen(function*() {
        const byKey = new Map<string, Array<[Envelope.Delivered<A>, ReadonlyArray<string>]>>()
        for (const [entryId, fields] of entries) {
          const decoded = yield* Effect.result(Envelope.decode(spec, entryId, fields ?? [], deliveriesOf(entryId)))
          if (decoded._tag === "Failure") {
            yield* deadLetter(entryId, fields ?? [], `${decoded.failure.reason}: ${decoded.failure.message}`, deliveriesOf(entryId))
            continue
          }
          const key = orderingKey(decoded.success)
          const queue = byKey.get(key) ?? []
          queue.push([decoded.success, fields])
          byKey.set(key, queue)
        }
        const groups = [...byKey].map(([key, queue]) => {
          if (pipeline === 1) return { key, queue, earlier: undefined, mine: undefined }
          const mine = Deferred.makeUnsafe<void>()
          const earlier = keyTails.get(key)
          keyTails.set(key, mine)
          return { key, queue, earlier, mine }
        })
        const handled: Array<string> = []
        const handleGroup = ({ key, queue, earlier, mine }: (typeof groups)[number]) =>
          Effect.gen(function*() {
            if (earlier) yield* Deferred.await(earlier)
            for (const [message, fields] of queue) {
              // Once shutdown began, messages not yet started stay unacknowledged and are released.
              if (stopping) return
              if (yield* handleOne(message, fields)) handled.push(message.entryId)
            }
          }).pipe(
            Effect.ensuring(Effect.suspend(() => {
              if (!mine) return Effect.void
              if (keyTails.get(key) === mine) keyTails.delete(key)
              return Deferred.succeed(mine, undefined)
            }))
          )
        return Effect.forEach(groups, handleGroup, { concurrency, discard: true }).pipe(
          Effect.andThen(Effect.suspend(() => acknowledge(handled)))
        )
      })

    const handleBatch = (entries: ReadonlyArray<RawEntry>, deliveriesOf: (entryId: string) => number) =>
      Effect.flatten(prepareBatch(entries, deliveriesOf))

    /** Takes over entries that stayed pending too long (their consumer died or hung). */
    const claim = Effect.gen(function*() {
      const pending = yield* redis.send<Array<[string, string, number, number]>>(
        "XPENDING", stream, group, "IDLE", String(claimIdleMs), "-", "+", String(batchSize)
      )
      if (pending.length === 0) return 0
      const counts = new Map(pending.map(([id, , , count]) => [id, Number(count)]))
      const exhausted = pending.filter(([, , , count]) => Number(count) >= maxDeliveries).map(([id]) => id)
      for (const id of exhausted) {
        const entry = yield* redis.send<Array<RawEntry>>("XRANGE", stream, id, id)
        const fields = entry[0]?.[1] ?? []
        yield* deadLetter(id, fields, `delivered ${counts.get(id)} times without being acknowledged: the consumer handling it died or hung`, counts.get(id) ?? maxDeliveries)
      }
      const retry = pending.filter(([, , , count]) => Number(count) < maxDeliveries).map(([id]) => id)
      if (retry.length === 0) return exhausted.length
      const claimed = yield* redis.send<Array<RawEntry | null>>("XCLAIM", stream, group, consumer, String(claimIdleMs), ...retry)
      // Entries trimmed from the stream while pending come back empty: nothing left to handle.
      const live = claimed.filter((e): e is RawEntry => e !== null && e[1] !== null)
      live.forEach(([id]) => holding.add(id))
      yield* Effect.logInfo("claimed pending entries", { count: live.length }).pipe(log)
      yield* handleBatch(live, (id) => (counts.get(id) ?? 0) + 1)
      return exhausted.length + live.length
    })

    /** Forgets consumers that left nothing pending and were idle for an hour (old processes). */
    const forgetIdleConsumers = Effect.gen(function*() {
      const consumers = yield* redis.send<Array<Array<string | number>>>("XINFO", "CONSUMERS", stream, group)
      for (const info of consumers) {
        const field = (name: string) => info[info.indexOf(name) + 1]
        if (field("name") !== consumer && Number(field("pending")) === 0 && Number(field("idle")) > 3_600_000) {
          yield* redis.send("XGROUP", "DELCONSUMER", stream, group, String(field("name")))
        }
      }
    })

    const connection = yield* BlockingConnection.make
    const readNew = connection.send<Array<[string, Array<RawEntry>]> | null>(
      "XREADGROUP", "GROUP", group, consumer, "COUNT", String(batchSize), "BLOCK", String(blockMs), "STREAMS", stream, ">"
    ).pipe(Effect.map((reply) => reply?.[0]?.[1] ?? []))

    const slots = yield* Semaphore.make(pipeline)
    const inFlight = yield* FiberSet.make<void, never>()

    const claimEveryMs = Math.max(10, Math.min(claimIdleMs, 5_000) / 2)
    let nextClaimAt = 0
    let nextCleanupAt = Date.now() + 60_000
    const step = Effect.gen(function*() {
      phase = "handling"
      if (Date.now() >= nextClaimAt) {
        nextClaimAt = Date.now() + claimEveryMs
        while (!stopping && (yield* claim) === batchSize) { /* drain a backlog of stale entries */ }
      }
      if (Date.now() >= nextCleanupAt) {
        nextCleanupAt = Date.now() + 60_000
        yield* forgetIdleConsumers
      }
      if (stopping) return
      phase = "reading"
      const entries = yield* readNew
      phase = "handling"
      entries.forEach(([id]) => holding.add(id))
      if (pipeline === 1) return yield* handleBatch(entries, () => 1)
      const handling = yield* prepareBatch(entries, () => 1)
      yield* slots.take(1)
      yield* FiberSet.run(inFlight, handling.pipe(
        Effect.catchCause((cause) => Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError("actor batch failed", cause).pipe(log)),
        Effect.ensuring(slots.release(1))
      ))
    })

    const loop = Effect.gen(function*() {
      while (!stopping) {
        yield* step.pipe(
          Effect.catchCause((cause) =>
            Cause.hasInterruptsOnly(cause)
              ? Effect.failCause(cause)
              // A read cut short by shutdown fails on its closed connection: nothing to report.
              : stopping
              ? Effect.void
              : Effect.logError("actor step failed; retrying", cause).pipe(
                log,
                Effect.andThen(Effect.sleep(500)),
                // A Redis that restarted without its data lost the group too: make it again.
                Effect.andThen(String(cause).includes("NOGROUP") ? Effect.ignore(ensureGroup) : Effect.void)
              )
          )
        )
      }
    })

    const fiber = yield* Effect.forkScoped(loop)
    yield* Effect.logInfo("actor started").pipe(log)

    // Runs before the fiber's own interruption (finalizers run in reverse order).
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        // A blocked read is cut short; a running batch finishes the messages it started
        // (within the grace period) and leaves the rest for `release`.
        stopping = true
        if (phase === "reading") yield* Fiber.interrupt(fiber)
        const finished = yield* Effect.interruptible(Fiber.await(fiber).pipe(Effect.andThen(FiberSet.awaitEmpty(inFlight)))).pipe(
          Effect.timeoutOption(options.shutdownGraceMs ?? 10_000)
        )
        if (finished._tag === "None") {
          yield* Fiber.interrupt(fiber)
          yield* FiberSet.clear(inFlight)
        }
        yield* release
        yield* Effect.logInfo("actor stopped").pipe(log)
      }).pipe(Effect.catchCause((cause) => Effect.logWarning("actor shutdown incomplete", cause).pipe(log)))
    )

    /** Makes everything this consumer still holds claimable by others at once. */
    const release = Effect.gen(function*() {
      const mine = yield* redis.send<Array<[string, string, number, number]>>(
        "XPENDING", stream, group, "-", "+", "10000", consumer
      )
      const ids = new Set([...holding, ...mine.map(([id]) => id)])
      if (ids.size > 0) {
        yield* redis.send("XCLAIM", stream, group, consumer, "0", ...ids, "IDLE", String(RELEASED_IDLE_MS), "JUSTID")
        yield* Effect.logInfo("released pending entries", { count: ids.size }).pipe(log)
      } else {
        yield* redis.send("XGROUP", "DELCONSUMER", stream, group, consumer)
      }
    })
  })

/** The actor as a layer: started when the layer is built, stopped when its scope closes. */
export const layer = <A extends AnyMessage, E, R>(options: ActorOptions<A, E, R>): Layer.Layer<never, RedisError, Redis | Exclude<R, Scope.Scope>> =>
  Layer.effectDiscard(run(options)) as Layer.Layer<never, RedisError, Redis | Exclude<R, Scope.Scope>>
