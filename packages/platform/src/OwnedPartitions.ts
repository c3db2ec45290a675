// The consumer engine's partition-owned mode: each partition (stream) of a consumer group is
// consumed by exactly one live process at a time, ownership is spread evenly over the live
// processes and moves when one joins, leaves or dies (Kafka's consumer groups are the model).
// For projectors that must apply a database transaction whole and in order (the dashboard).
//
// - Membership.ts: every process heartbeats; all compute the same assignment.
// - A partition is consumed only under its lease (`Keys.streamLease`, lua/lease.lua), taken when
//   it is assigned here and free, given back when it is assigned elsewhere or on shutdown, and
//   lapsing after `ownershipMs` when its holder died or froze.
// - Reading is fenced (lua/ownedRead.lua): the lease check, its renewal and XREADGROUP are one
//   atomic step, so a frozen process that thaws after losing a partition cannot take one more
//   entry of it. What it still had in hand it applies through the projection's guards (revision
//   compare-and-set, source positions), which never move a document backwards.
// - A new owner first claims every entry of the group still pending on the partition, whoever
//   held it, in stream order (ConsumerGroup.claimAll), then reads new ones.
// - The handler returns which entries to acknowledge: rows of a transaction whose commit has not
//   arrived stay pending in Redis, so they survive the process and move with the partition.
// - Undecodable entries go to the dead-letter stream atomically; a handler that fails ends the
//   worker, and the partition restarts from its pending entries with a fresh handler (never
//   skipping one); handlers retry what is worth retrying themselves.
// - NOGROUP (Redis lost its data) makes the group again (ConsumerGroup.recoverGroup).
import { Cause, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { Redis, script } from "effect/persistence/Redis"
import * as BlockingConnection from "./BlockingConnection.ts"
import * as ConsumerGroup from "./ConsumerGroup.ts"
import * as HandlerDuration from "./HandlerDuration.ts"
import * as Envelope from "./Envelope.ts"
import * as Keys from "./Keys.ts"
import { leaseScript } from "./Lease.ts"
import * as Lua from "./Lua.ts"
import * as Membership from "./Membership.ts"
import type { RawEntry } from "./StreamLog.ts"
import type { AnyMessage, StreamSpec } from "./StreamSpec.ts"

/** What handles one partition while this process owns it; made afresh at every takeover. */
export interface PartitionHandler<A extends AnyMessage, E, R> {
  /** Handles entries in stream order; returns the ids now done with (acknowledged). */
  readonly handle: (entries: ReadonlyArray<Envelope.Delivered<A>>) => Effect.Effect<ReadonlyArray<string>, E, R>
}

export interface OwnedOptions<A extends AnyMessage, E, R> {
  readonly group: string
  /** The partitions: every stream the group consumes. */
  readonly streams: ReadonlyArray<StreamSpec<A>>
  readonly open: (stream: StreamSpec<A>) => PartitionHandler<A, E, R>
  /** Entries per read (default 500). */
  readonly batchSize?: number
  /** How long a read waits for new entries (default 1000 ms; at most a third of `ownershipMs`). */
  readonly blockMs?: number
  /** How long ownership and membership last without renewal (default 15 s): the longest a takeover waits. */
  readonly ownershipMs?: number
  /** How often membership is renewed and ownership rebalanced (default ownershipMs / 5). */
  readonly rebalanceMs?: number
  readonly startFrom?: "0" | "$"
  /** How long shutdown (or giving a partition away) waits for the batch in hand (default 10 s). */
  readonly shutdownGraceMs?: number
  /** Member and consumer name; default `<group>-<host>-<pid>-<random>`. */
  readonly consumer?: string
}

/** What a running engine owns now: for logs, metrics and tests. */
export interface OwnedStatus {
  readonly member: string
  readonly members: ReadonlyArray<string>
  readonly owned: ReadonlyArray<string>
}

const readScript = script(
  (stream: string, lease: string, group: string, consumer: string, count: number, leaseMs: number) => [
    stream,
    lease,
    group,
    consumer,
    count,
    leaseMs
  ],
  { lua: Lua.source("ownedRead"), numberOfKeys: 2 }
).withReturnType<[0] | [1, Array<RawEntry>] | [2, string]>()

interface Worker {
  readonly fiber: Fiber.Fiber<void, unknown>
  readonly scope: Scope.Closeable
  /** Asks the worker to stop after the batch in hand. */
  readonly stop: () => void
  readonly waiting: () => boolean
}

/** Starts the engine in the current scope; closing the scope gives every partition back. */
export const run = <A extends AnyMessage, E, R>(options: OwnedOptions<A, E, R>) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const me = options.consumer ?? ConsumerGroup.consumerName(options.group)
    const group = options.group
    const batchSize = options.batchSize ?? 500
    const ownershipMs = options.ownershipMs ?? 15_000
    // Only a read renews the lease, so a wait for new entries must end well inside it: a wait as
    // long as the lease (a projector with ownershipMs 1000 and the default 1000 ms wait) let
    // every idle partition's lease lapse at each wait, and the partition was dropped and taken
    // again, with a new reserved connection (on a cluster a new TCP connection to the stream's
    // master) and a claim of its pending entries, about once a second per partition.
    const blockMs = Math.max(10, Math.min(options.blockMs ?? 1000, Math.floor(ownershipMs / 3)))
    const rebalanceMs = options.rebalanceMs ?? Math.max(50, Math.floor(ownershipMs / 5))
    const startFrom = options.startFrom ?? "0"
    const graceMs = options.shutdownGraceMs ?? 10_000
    const specs = new Map(options.streams.map((spec) => [spec.name, spec]))
    const log = Effect.annotateLogs({ group, consumer: me })
    // Workers' scopes hang off this one, made before the hand-back finalizer below, so that on
    // shutdown the hand-back (which stops them gracefully) runs before their scopes close.
    const outer = yield* Scope.fork(yield* Effect.scope)
    const context = yield* Effect.context<R | Redis>()
    const workers = new Map<string, Worker>()
    let members: ReadonlyArray<string> = []
    let closing = false

    for (const spec of options.streams) yield* ConsumerGroup.ensure({ stream: spec.name, group }, startFrom)

    /** Consumes one partition until it is lost, given away or the scope closes. */
    const consume = (spec: StreamSpec<A>, control: { stopping: boolean; phase: "waiting" | "handling" }) =>
      Effect.gen(function* () {
        const ref = { stream: spec.name, group }
        const key = Keys.stream(spec.name)
        const lease = Keys.streamLease(spec.name, group)
        const handler = options.open(spec)
        const timed = HandlerDuration.timed(ref)
        const connection = yield* BlockingConnection.make

        const handle = (raw: ReadonlyArray<RawEntry>) =>
          Effect.uninterruptible(
            Effect.gen(function* () {
              if (raw.length === 0) return
              const decoded: Array<Envelope.Delivered<A>> = []
              for (const [entryId, fields] of raw) {
                const result = Envelope.decodeResult(spec, entryId, fields ?? [], 1)
                if (result._tag === "Success") decoded.push(result.success)
                else
                  yield* ConsumerGroup.deadLetter(ref, {
                    entryId,
                    fields: fields ?? [],
                    error: `${result.failure.reason}: ${result.failure.message}`,
                    deliveries: 1,
                    consumer: me
                  })
              }
              // No retry here: a handler keeps state across batches (a transaction's first rows), so a
              // failed batch ends the worker and the partition starts over from its pending entries.
              const done = yield* timed(handler.handle(decoded))
              yield* ConsumerGroup.acknowledge(ref, done)
            })
          )

        // What the previous owner left pending comes first, in stream order.
        const claimed = yield* ConsumerGroup.recoverGroup(
          ref,
          startFrom,
          ConsumerGroup.claimAll(ref, me, batchSize, handle)
        )
        if (claimed > 0)
          yield* Effect.logInfo("took over pending entries", { stream: spec.name, count: claimed }).pipe(log)
        while (!control.stopping) {
          const reply = yield* ConsumerGroup.recoverGroup(
            ref,
            startFrom,
            redis.eval(readScript)(key, lease, group, me, batchSize, ownershipMs)
          )
          if (reply[0] === 0) {
            yield* Effect.logWarning("partition lost: its lease lapsed or went to another process", {
              stream: spec.name
            }).pipe(log)
            return
          }
          if (reply[0] === 1) {
            yield* handle(reply[1])
            continue
          }
          control.phase = "waiting"
          yield* connection.send("XREAD", "COUNT", "1", "BLOCK", String(blockMs), "STREAMS", key, reply[1])
          control.phase = "handling"
        }
      })

    const start = (name: string) =>
      Effect.gen(function* () {
        const spec = specs.get(name)!
        if ((yield* redis.eval(leaseScript)(Keys.streamLease(name, group), me, ownershipMs)) !== 1) return
        const scope = yield* Scope.fork(outer)
        const control = { stopping: false, phase: "handling" as "waiting" | "handling" }
        const body = consume(spec, control).pipe(
          Effect.catchCause((cause) =>
            Cause.hasInterruptsOnly(cause) || control.stopping
              ? Effect.void
              : Effect.logError("partition consumer failed; it starts again from its pending entries", cause).pipe(
                  log,
                  Effect.annotateLogs({ stream: name })
                )
          ),
          // Whatever ended the worker, the partition goes back (if it is still ours).
          Effect.ensuring(Effect.ignore(redis.eval(leaseScript)(Keys.streamLease(name, group), me, 0))),
          Effect.ensuring(
            Effect.sync(() => {
              if (workers.get(name)?.scope === scope) workers.delete(name)
            })
          )
        )
        const fiber = yield* Effect.forkIn(Effect.provideContext(body, context), scope)
        workers.set(name, {
          fiber,
          scope,
          stop: () => void (control.stopping = true),
          waiting: () => control.phase === "waiting"
        })
        yield* Effect.logInfo("partition owned", { stream: name }).pipe(log)
      })

    /** Stops a worker: a wait for entries is cut short, a batch in hand finishes (within the grace). */
    const stop = (name: string) =>
      Effect.gen(function* () {
        const worker = workers.get(name)
        if (!worker) return
        worker.stop()
        if (worker.waiting()) yield* Fiber.interrupt(worker.fiber)
        const finished = yield* Fiber.await(worker.fiber).pipe(Effect.timeoutOption(graceMs))
        if (finished._tag === "None") yield* Fiber.interrupt(worker.fiber)
        yield* Scope.close(worker.scope, Exit.void)
        workers.delete(name)
      })

    const rebalance = Effect.gen(function* () {
      if (closing) return
      members = yield* Membership.beat(group, me, ownershipMs)
      const wanted = new Set(Membership.assign([...specs.keys()], members, me))
      for (const name of [...workers.keys()]) {
        if (!wanted.has(name)) {
          yield* stop(name)
          yield* Effect.logInfo("partition given away", { stream: name }).pipe(log)
        }
      }
      for (const name of wanted) if (!workers.has(name)) yield* start(name)
    })

    yield* Effect.forkScoped(
      Effect.forever(
        rebalance.pipe(
          Effect.catchCause((cause) =>
            Cause.hasInterruptsOnly(cause)
              ? Effect.failCause(cause)
              : closing
                ? Effect.void
                : Effect.logWarning("rebalance failed; retrying", cause).pipe(log)
          ),
          Effect.andThen(Effect.sleep(rebalanceMs))
        )
      )
    )

    // Runs before the rebalancing fiber is interrupted: every worker finishes its batch and gives
    // its partition back, and the member leaves, so the others take over at once.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        closing = true
        yield* Effect.forEach([...workers.keys()], stop, { concurrency: "unbounded", discard: true })
        yield* Membership.leave(group, me, ownershipMs)
        yield* Effect.logInfo("partitions given back").pipe(log)
      }).pipe(Effect.catchCause((cause) => Effect.logWarning("partition hand-back incomplete", cause).pipe(log)))
    )

    return {
      status: Effect.sync((): OwnedStatus => ({ member: me, members, owned: [...workers.keys()].sort() }))
    }
  })

/** The engine as a layer: started when the layer is built, stopped when its scope closes. */
export const layer = <A extends AnyMessage, E, R>(options: OwnedOptions<A, E, R>) => Layer.effectDiscard(run(options))
