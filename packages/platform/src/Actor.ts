// The consumer engine's shared mode: a consumer group on one stream plus a handler Effect, any
// consumer of the group taking any entry (commands, request/reply, independent row facts). The
// partition-owned mode is OwnedPartitions.ts; both are built from ConsumerGroup.ts's primitives
// and KeyedBatches.ts handles a batch here. Delivery is at-least-once:
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
import { Cause, Effect, Fiber, FiberSet, Layer, Scope, Semaphore } from "effect"
import { Redis, RedisError } from "effect/persistence/Redis"
import * as BlockingConnection from "./BlockingConnection.ts"
import * as ConsumerGroup from "./ConsumerGroup.ts"
import * as HandlerDuration from "./HandlerDuration.ts"
import type * as Envelope from "./Envelope.ts"
import * as KeyedBatches from "./KeyedBatches.ts"
import * as Keys from "./Keys.ts"
import * as Tracing from "./Tracing.ts"
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

const IDLE_CONSUMER_MS = 3_600_000

/** Starts the actor in the current scope; closing the scope shuts it down gracefully. */
export const run = <A extends AnyMessage, E, R>(options: ActorOptions<A, E, R>) =>
  Effect.gen(function* () {
    const spec = options.stream
    const ref: ConsumerGroup.GroupRef = { stream: spec.name, group: options.group }
    const timed = HandlerDuration.timed(ref)
    const consumer = options.consumer ?? ConsumerGroup.consumerName(options.group)
    const batchSize = options.batchSize ?? 100
    const claimIdleMs = options.claimIdleMs ?? 30_000
    const maxDeliveries = Math.max(1, options.maxDeliveries ?? 5)
    const pipeline = Math.max(1, options.pipeline ?? 1)
    const startFrom = options.startFrom ?? "0"
    const log = Effect.annotateLogs({ actor: options.group, consumer, stream: spec.name })

    yield* ConsumerGroup.ensure(ref, startFrom)

    /** Entries read by this consumer and not yet acknowledged. */
    const holding = new Set<string>()
    let stopping = false
    let phase: "reading" | "handling" = "reading"

    const batches = KeyedBatches.make({
      ref,
      spec,
      consumer,
      // Each message under its own span, a child of the span that published it (its envelope's
      // traceparent), so a customer action is one trace across the stream hop.
      // Each delivery timed (HandlerDuration.ts).
      handle: (message: Envelope.Delivered<A>) =>
        Effect.withSpan(timed(options.handle(message)), `${options.group} ${spec.name}`, {
          parent: Tracing.parentOf(message.trace.traceparent),
          attributes: { "messaging.message.id": message.id, "messaging.destination.name": spec.name }
        }),
      orderingKey: options.orderingKey ?? ((m: Envelope.Delivered<A>) => m.key),
      concurrency: options.concurrency ?? 8,
      pipeline,
      maxDeliveries,
      retryDelayMs: options.retryDelayMs ?? 50,
      stopping: () => stopping,
      done: (id) => void holding.delete(id)
    })

    const acknowledge = (ids: ReadonlyArray<string>) =>
      ConsumerGroup.acknowledge(ref, ids).pipe(
        Effect.tap(() => Effect.sync(() => ids.forEach((id) => holding.delete(id))))
      )

    const handleBatch = (entries: ReadonlyArray<RawEntry>, deliveriesOf: (entryId: string) => number) =>
      Effect.flatten(batches.prepare(entries, deliveriesOf)).pipe(Effect.flatMap(acknowledge))

    /** Takes over entries that stayed pending too long (their consumer died or hung). */
    const claim = Effect.gen(function* () {
      const pending = yield* ConsumerGroup.pendingIdle(ref, claimIdleMs, batchSize)
      if (pending.length === 0) return 0
      const counts = new Map(pending.map((p) => [p.id, p.deliveries]))
      // A message delivered maxDeliveries times without an acknowledgement kills its consumers.
      const exhausted = pending.filter((p) => p.deliveries >= maxDeliveries)
      for (const p of exhausted) {
        const fields = (yield* ConsumerGroup.entry(ref, p.id)) ?? []
        yield* batches.deadLetter(
          p.id,
          fields,
          `delivered ${p.deliveries} times without being acknowledged: the consumer handling it died or hung`,
          p.deliveries
        )
      }
      const retry = pending.filter((p) => p.deliveries < maxDeliveries).map((p) => p.id)
      const live = yield* ConsumerGroup.claimIdle(ref, consumer, claimIdleMs, retry)
      if (live.length === 0) return exhausted.length
      live.forEach(([id]) => holding.add(id))
      yield* Effect.logInfo("claimed pending entries", { count: live.length }).pipe(log)
      yield* handleBatch(live, (id) => (counts.get(id) ?? 0) + 1)
      return exhausted.length + live.length
    })

    const connection = yield* BlockingConnection.make
    const readNew = connection
      .send<Array<[string, Array<RawEntry>]> | null>(
        "XREADGROUP",
        "GROUP",
        options.group,
        consumer,
        "COUNT",
        String(batchSize),
        "BLOCK",
        String(options.blockMs ?? 2000),
        "STREAMS",
        Keys.stream(spec.name),
        ">"
      )
      .pipe(Effect.map((reply) => reply?.[0]?.[1] ?? []))

    const slots = yield* Semaphore.make(pipeline)
    const inFlight = yield* FiberSet.make<void, never>()

    /** Handles a batch just read: in line, or beside the earlier ones (pipeline). */
    const dispatch = (entries: ReadonlyArray<RawEntry>) =>
      Effect.gen(function* () {
        if (pipeline === 1) return yield* handleBatch(entries, () => 1)
        const handling = yield* batches.prepare(entries, () => 1)
        yield* slots.take(1)
        yield* FiberSet.run(
          inFlight,
          handling.pipe(
            Effect.flatMap(acknowledge),
            Effect.catchCause((cause) =>
              Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError("actor batch failed", cause).pipe(log)
            ),
            Effect.ensuring(slots.release(1))
          )
        )
      })

    const claimEveryMs = Math.max(10, Math.min(claimIdleMs, 5_000) / 2)
    let nextClaimAt = 0
    let nextCleanupAt = Date.now() + 60_000
    const step = Effect.gen(function* () {
      phase = "handling"
      if (Date.now() >= nextClaimAt) {
        nextClaimAt = Date.now() + claimEveryMs
        while (!stopping && (yield* claim) === batchSize) {
          /* drain a backlog of stale entries */
        }
      }
      if (Date.now() >= nextCleanupAt) {
        nextCleanupAt = Date.now() + 60_000
        yield* ConsumerGroup.forgetIdleConsumers(ref, consumer, IDLE_CONSUMER_MS)
      }
      if (stopping) return
      phase = "reading"
      const entries = yield* readNew
      phase = "handling"
      entries.forEach(([id]) => holding.add(id))
      yield* dispatch(entries)
    })

    const loop = Effect.gen(function* () {
      while (!stopping) {
        yield* step.pipe(
          Effect.catchCause((cause) =>
            Cause.hasInterruptsOnly(cause)
              ? Effect.failCause(cause)
              : // A read cut short by shutdown fails on its closed connection: nothing to report.
                stopping
                ? Effect.void
                : Effect.logError("actor step failed; retrying", cause).pipe(
                    log,
                    Effect.andThen(Effect.sleep(500)),
                    // A Redis that restarted without its data lost the group too: make it again.
                    Effect.andThen(
                      String(cause).includes("NOGROUP")
                        ? Effect.ignore(ConsumerGroup.ensure(ref, startFrom))
                        : Effect.void
                    )
                  )
          )
        )
      }
    })

    const fiber = yield* Effect.forkScoped(loop)
    yield* Effect.logInfo("actor started").pipe(log)

    // Runs before the fiber's own interruption (finalizers run in reverse order): a blocked read
    // is cut short; a running batch finishes the messages it started (within the grace period)
    // and leaves the rest, which `release` makes claimable by others at once.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        stopping = true
        if (phase === "reading") yield* Fiber.interrupt(fiber)
        const finished = yield* Effect.interruptible(
          Fiber.await(fiber).pipe(Effect.andThen(FiberSet.awaitEmpty(inFlight)))
        ).pipe(Effect.timeoutOption(options.shutdownGraceMs ?? 10_000))
        if (finished._tag === "None") {
          yield* Fiber.interrupt(fiber)
          yield* FiberSet.clear(inFlight)
        }
        const released = yield* ConsumerGroup.release(ref, consumer, holding)
        if (released > 0) yield* Effect.logInfo("released pending entries", { count: released }).pipe(log)
        yield* Effect.logInfo("actor stopped").pipe(log)
      }).pipe(Effect.catchCause((cause) => Effect.logWarning("actor shutdown incomplete", cause).pipe(log)))
    )
  })

/** The actor as a layer: started when the layer is built, stopped when its scope closes. */
export const layer = <A extends AnyMessage, E, R>(
  options: ActorOptions<A, E, R>
): Layer.Layer<never, RedisError, Redis | Exclude<R, Scope.Scope>> =>
  Layer.effectDiscard(run(options)) as Layer.Layer<never, RedisError, Redis | Exclude<R, Scope.Scope>>
