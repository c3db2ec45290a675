// How the shared-mode consumer (Actor.ts) handles a batch: decode each entry (undecodable ones
// are dead-lettered), group the batch by ordering key, handle keys concurrently and each key's
// messages in order, retrying a failing message in place with backoff (later messages of its key
// wait, so per-key order holds) and dead-lettering it after `maxDeliveries` attempts. With
// overlapping batches (pipeline > 1), a key's messages also wait for that key's messages of
// earlier batches. Returns the ids handled, for the caller to acknowledge.
import { Cause, Deferred, Effect, Schedule } from "effect"
import * as ConsumerGroup from "./ConsumerGroup.ts"
import * as Envelope from "./Envelope.ts"
import type { RawEntry } from "./StreamLog.ts"
import type { AnyMessage, StreamSpec } from "./StreamSpec.ts"

export interface KeyedOptions<A extends AnyMessage, E, R> {
  readonly ref: ConsumerGroup.GroupRef
  readonly spec: StreamSpec<A>
  readonly consumer: string
  readonly handle: (message: Envelope.Delivered<A>) => Effect.Effect<void, E, R>
  readonly orderingKey: (message: Envelope.Delivered<A>) => string
  readonly concurrency: number
  readonly pipeline: number
  readonly maxDeliveries: number
  readonly retryDelayMs: number
  /** Once true, messages not yet started are left alone (unacknowledged, released later). */
  readonly stopping: () => boolean
  /** An entry this consumer no longer holds (acknowledged or dead-lettered). */
  readonly done: (entryId: string) => void
}

export const make = <A extends AnyMessage, E, R>(options: KeyedOptions<A, E, R>) => {
  const { ref, spec, consumer, maxDeliveries } = options

  const deadLetter = (entryId: string, fields: ReadonlyArray<string>, error: string, deliveries: number) =>
    ConsumerGroup.deadLetter(ref, { entryId, fields, error, deliveries, consumer }).pipe(
      Effect.tap(() => Effect.sync(() => options.done(entryId)))
    )

  /** Handles one message with retries; false when it ended in the dead-letter stream. */
  const handleOne = (message: Envelope.Delivered<A>, fields: ReadonlyArray<string>) => {
    const attemptsLeft = Math.max(1, maxDeliveries - message.deliveries + 1)
    let attempts = 0
    return Effect.suspend(() => {
      attempts++
      return options.handle({ ...message, deliveries: message.deliveries + attempts - 1 })
    }).pipe(
      // Defects count as failed deliveries too: a handler bug must not lose the message.
      Effect.sandbox,
      Effect.retry({ schedule: Schedule.exponential(options.retryDelayMs), times: attemptsLeft - 1 }),
      Effect.as(true),
      Effect.catch((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.failCause(cause as Cause.Cause<never>)
          : deadLetter(message.entryId, fields, Cause.pretty(cause), message.deliveries + attempts - 1).pipe(
              Effect.as(false)
            )
      )
    )
  }

  /** The last batch still handling each key: a later batch's messages of that key wait for it. */
  const keyTails = new Map<string, Deferred.Deferred<void>>()

  /**
   * Decodes and groups a batch and, when batches overlap, queues each key behind its earlier
   * batch right away (so order is fixed at read time); returns the handling itself, which
   * yields the ids handled.
   */
  const prepare = (entries: ReadonlyArray<RawEntry>, deliveriesOf: (entryId: string) => number) =>
    Effect.gen(function* () {
      const byKey = new Map<string, Array<[Envelope.Delivered<A>, ReadonlyArray<string>]>>()
      for (const [entryId, fields] of entries) {
        const decoded = Envelope.decodeResult(spec, entryId, fields ?? [], deliveriesOf(entryId))
        if (decoded._tag === "Failure") {
          yield* deadLetter(
            entryId,
            fields ?? [],
            `${decoded.failure.reason}: ${decoded.failure.message}`,
            deliveriesOf(entryId)
          )
          continue
        }
        const key = options.orderingKey(decoded.success)
        const queue = byKey.get(key) ?? []
        queue.push([decoded.success, fields])
        byKey.set(key, queue)
      }
      const groups = [...byKey].map(([key, queue]) => {
        if (options.pipeline === 1) return { key, queue, earlier: undefined, mine: undefined }
        const mine = Deferred.makeUnsafe<void>()
        const earlier = keyTails.get(key)
        keyTails.set(key, mine)
        return { key, queue, earlier, mine }
      })
      const handled: Array<string> = []
      const handleGroup = ({ key, queue, earlier, mine }: (typeof groups)[number]) =>
        Effect.gen(function* () {
          if (earlier) yield* Deferred.await(earlier)
          for (const [message, fields] of queue) {
            if (options.stopping()) return
            if (yield* handleOne(message, fields)) handled.push(message.entryId)
          }
        }).pipe(
          Effect.ensuring(
            Effect.suspend(() => {
              if (!mine) return Effect.void
              if (keyTails.get(key) === mine) keyTails.delete(key)
              return Deferred.succeed(mine, undefined)
            })
          )
        )
      return Effect.forEach(groups, handleGroup, { concurrency: options.concurrency, discard: true }).pipe(
        Effect.as(handled as ReadonlyArray<string>)
      )
    })

  return { prepare, deadLetter }
}
