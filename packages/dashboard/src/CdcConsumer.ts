// A consumer group on one CDC stream that applies whole database transactions
// (TransactionAssembler.ts) in stream order.
//
// Why not the platform's Actor: an actor acknowledges each entry once its handler returns, but
// a transaction's rows must wait for its commit entry; acknowledged and held only in memory,
// they would be lost with the process. Here an entry is acknowledged only when the unit it
// belongs to was applied, so after a crash every row of an unfinished transaction is still
// pending in Redis.
//
// Order matters (a redelivered older transaction must not be applied after a newer one of the
// same customer, and every row of a transaction must reach the same consumer), so one consumer
// of the group is active per stream: it holds a lease (`global:lease:<group>:<stream>`,
// renewed as it reads) and the others stand by, taking over when it lapses. The new holder
// first claims every entry left pending (XAUTOCLAIM from 0) and applies them, then reads new
// ones. Scaling out is partitioning streams, not adding consumers to one.
//
// `apply` must be idempotent per unit (the dashboard's positions make it so): a crash between
// applying and acknowledging delivers the same units again.
import { Cdc } from "@bank/contracts"
import { Envelope, Keys, leaseScript } from "@bank/platform"
import type { RawEntry } from "@bank/platform"
import { Cause, Effect, Schedule } from "effect"
import { Redis } from "effect/persistence/Redis"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import * as TransactionAssembler from "./TransactionAssembler.ts"

export interface ConsumerOptions<E, R> {
  /** The system whose `cdc.<system>` stream is read. */
  readonly system: string
  readonly group: string
  /** Applies complete units (in stream order); must be idempotent per unit. */
  readonly apply: (units: ReadonlyArray<TransactionAssembler.CustomerUnit>) => Effect.Effect<void, E, R>
  /** Entries per read (default 500). */
  readonly batchSize?: number
  /** How long a read blocks waiting for entries (default 1000 ms). */
  readonly blockMs?: number
  /** How long the lease lasts unless renewed (default 15 s): the longest a takeover waits. */
  readonly leaseMs?: number
  readonly consumer?: string
}

export const leaseKey = (group: string, system: string): string => Keys.global(`lease:${group}:${Cdc.stream(system).name}`)

/** Starts the consumer in the current scope; closing the scope stops it and gives the lease back. */
export const run = <E, R>(options: ConsumerOptions<E, R>) =>
  Effect.gen(function*() {
    const redis = yield* Redis
    const spec = Cdc.stream(options.system)
    const stream = Keys.stream(spec.name)
    const group = options.group
    const me = options.consumer ?? `${group}-${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`
    const batchSize = String(options.batchSize ?? 500)
    const blockMs = String(options.blockMs ?? 1000)
    const leaseMs = options.leaseMs ?? 15_000
    const lease = leaseKey(group, options.system)
    const log = Effect.annotateLogs({ consumer: me, group, stream: spec.name })

    yield* redis.send("XGROUP", "CREATE", stream, group, "0", "MKSTREAM").pipe(
      Effect.catchIf((e) => String(e.cause).includes("BUSYGROUP"), () => Effect.void)
    )

    const acknowledge = (ids: ReadonlyArray<string>) => (ids.length === 0 ? Effect.void : Effect.asVoid(redis.send("XACK", stream, group, ...ids)))

    // An entry that is not a CDC message cannot be applied by anyone: it goes to the
    // dead-letter stream with the reason, and the stream moves on.
    const decode = (raw: ReadonlyArray<RawEntry>) =>
      Effect.gen(function*() {
        const entries: Array<TransactionAssembler.Entry> = []
        for (const [entryId, fields] of raw) {
          const decoded = yield* Effect.result(Envelope.decode(spec, entryId, fields ?? [], 1))
          if (decoded._tag === "Success") {
            entries.push({ entryId, payload: decoded.success.payload })
            continue
          }
          yield* redis.send("XADD", Keys.deadLetter(spec.name), "MAXLEN", "~", "100000", "*", ...(fields ?? []),
            "dead.entry", entryId, "dead.group", group, "dead.error", decoded.failure.message.slice(0, 4000))
          yield* acknowledge([entryId])
          yield* Effect.logWarning("undecodable CDC entry dead-lettered", { entryId, error: decoded.failure.message }).pipe(log)
        }
        return entries
      })

    const session = Effect.scoped(Effect.gen(function*() {
      const connection = yield* redis.reserve
      const assembler = TransactionAssembler.make()
      // A batch, once read, is applied and acknowledged before shutdown proceeds.
      const handle = (raw: ReadonlyArray<RawEntry>) =>
        Effect.uninterruptible(Effect.gen(function*() {
          if (raw.length === 0) return
          const assembled = assembler.feed(yield* decode(raw))
          for (const warning of assembled.warnings) yield* Effect.logWarning(warning).pipe(log)
          if (assembled.units.length > 0) {
            yield* options.apply(assembled.units).pipe(
              Effect.retry({ schedule: Schedule.exponential("100 millis"), times: 6 })
            )
          }
          yield* acknowledge(assembled.ack)
        }))
      // The lease is renewed before a read once a third of it has passed, not before every read:
      // a lease renewed less than leaseMs/3 ago cannot have lapsed, so nobody else can hold it,
      // and a busy stream saves a round trip per batch.
      let renewedAt = Number.NEGATIVE_INFINITY
      const renew = Effect.suspend(() => {
        const now = performance.now()
        if (now - renewedAt < leaseMs / 3) return Effect.succeed(true)
        return Effect.map(redis.eval(leaseScript)(lease, me, leaseMs), (held) => {
          if (held === 1) renewedAt = now
          return held === 1
        })
      })

      // What the previous holder left pending comes first, in stream order.
      let cursor = "0-0"
      do {
        if (!(yield* renew)) return "lost" as const
        const [next, claimed] = yield* redis.send<[string, Array<RawEntry | null>]>(
          "XAUTOCLAIM", stream, group, me, "0", cursor, "COUNT", batchSize
        )
        yield* handle(claimed.filter((e): e is RawEntry => e !== null && e[1] !== null))
        cursor = next
      } while (cursor !== "0-0")
      // Consumers of earlier processes hold nothing now: forget them, or every restart adds one.
      const consumers = yield* redis.send<Array<Array<string | number>>>("XINFO", "CONSUMERS", stream, group)
      for (const info of consumers) {
        const name = String(info[info.indexOf("name") + 1])
        if (name !== me && Number(info[info.indexOf("pending") + 1]) === 0) yield* redis.send("XGROUP", "DELCONSUMER", stream, group, name)
      }

      while (true) {
        if (!(yield* renew)) return "lost" as const
        const reply = yield* connection.send<Array<[string, Array<RawEntry>]> | null>(
          "XREADGROUP", "GROUP", group, me, "COUNT", batchSize, "BLOCK", blockMs, "STREAMS", stream, ">"
        )
        yield* handle(reply?.[0]?.[1] ?? [])
      }
    }))

    const acquire = Effect.gen(function*() {
      let announced = false
      while (!((yield* redis.eval(leaseScript)(lease, me, leaseMs)) === 1)) {
        if (!announced) yield* Effect.logInfo("standing by: another consumer holds the lease").pipe(log)
        announced = true
        yield* Effect.sleep(Math.max(100, Math.floor(leaseMs / 5)))
      }
      yield* Effect.logInfo("consuming").pipe(log)
    })

    const loop = Effect.gen(function*() {
      while (true) {
        const exit = yield* Effect.exit(acquire.pipe(Effect.andThen(session)))
        if (exit._tag === "Success") {
          yield* Effect.logWarning("lease lost to another consumer; standing by").pipe(log)
        } else if (Cause.hasInterruptsOnly(exit.cause)) {
          return
        } else {
          yield* Effect.logError("consumer failed; starting again", exit.cause).pipe(log)
          yield* Effect.sleep(1000)
        }
      }
    })

    // Finalizers run in reverse: this one after the loop was interrupted (and its batch done),
    // so a standby takes over at once instead of waiting for the lease to lapse.
    yield* Effect.addFinalizer(() => redis.eval(leaseScript)(lease, me, 0).pipe(Effect.ignore))
    yield* Effect.forkScoped(loop)
  })
