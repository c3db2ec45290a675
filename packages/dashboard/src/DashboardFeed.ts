// The live feed behind GET /v1/dashboard/events, one per edge process. A single reserved Redis
// connection tails `dashboard.changes` (XREAD BLOCK) for every open event stream of the process,
// not one connection per client; an entry for a customer with open streams has their current
// document read once and handed to each of them.
//
// Every event carries the whole document, so a client that falls behind only needs the newest:
// each subscription holds at most one undelivered event, a newer one replaces it. Event ids are
// the stream's entry ids. A client reconnecting with Last-Event-ID gets the current document at
// once if its dashboard changed since (found by scanning the stream from that id, up to a
// bound; beyond it, or when the id is older than what the stream keeps, it gets it anyway),
// and nothing if not. A client without one gets the current document first.
//
// Handing a changed document to a customer's open streams runs under a span `DashboardFeed.push`
// whose parent is the change's trace (the projector's write, through the entry's traceparent),
// so the push is the last span of a customer action's trace.
import { DocumentStore, Keys, ReadModel, Tracing } from "@bank/platform"
import type { RawEntry } from "@bank/platform"
import { Context, Effect, Layer, Option } from "effect"
import { Redis, type RedisError } from "effect/persistence/Redis"
import * as Dashboard from "./Dashboard.ts"
import { DashboardDocuments } from "./DashboardDocuments.ts"
import { changes } from "./DashboardChanges.ts"
import { readModel } from "./DashboardProjector.ts"

export interface FeedEvent {
  readonly id: string
  readonly data: string
}

export interface Subscription {
  /** The next event; "timeout" after `waitMs` without one; "closed" once closed. */
  readonly next: (waitMs: number) => Promise<FeedEvent | "timeout" | "closed">
  readonly close: () => void
}

export class DashboardFeed extends Context.Service<
  DashboardFeed,
  {
    readonly subscribe: (
      customerId: string,
      lastEventId: string | undefined
    ) => Effect.Effect<Subscription, RedisError | DocumentStore.DocumentStoreError>
    /** Open subscriptions in this process. */
    readonly size: Effect.Effect<number>
  }
>()("@bank/dashboard/DashboardFeed") {}

const ENTRY_ID = /^(\d{1,20})-(\d{1,20})$/
const U64_MAX = 2n ** 64n - 1n

/** Whether `id` is a stream entry id Redis accepts: `<ms>-<seq>`, each an unsigned 64-bit number. */
export const isEntryId = (id: string): boolean => {
  const match = ENTRY_ID.exec(id)
  return match !== null && BigInt(match[1]!) <= U64_MAX && BigInt(match[2]!) <= U64_MAX
}

/** Stream entry ids in order: -1, 0, 1. */
export const compareIds = (a: string, b: string): number => {
  const [am, as] = a.split("-").map(BigInt) as [bigint, bigint]
  const [bm, bs] = b.split("-").map(BigInt) as [bigint, bigint]
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1
}

const field = (fields: ReadonlyArray<string>, name: string): string | undefined => {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}
const keyField = (fields: ReadonlyArray<string>) => field(fields, "key")

class Sub implements Subscription {
  private pending: FeedEvent | undefined
  private wake: (() => void) | undefined
  closed = false
  /** Id of the newest event handed out: older ones are not sent again. */
  delivered = "0-0"
  constructor(
    readonly customerId: string,
    private readonly onClose: (s: Sub) => void
  ) {}

  offer(event: FeedEvent) {
    if (this.closed || compareIds(event.id, this.delivered) <= 0) return
    if (this.pending && compareIds(this.pending.id, event.id) >= 0) return
    this.pending = event
    this.wake?.()
  }

  next(waitMs: number): Promise<FeedEvent | "timeout" | "closed"> {
    return new Promise((resolve) => {
      const take = () => {
        clearTimeout(timer)
        this.wake = undefined
        if (this.closed) return resolve("closed")
        const event = this.pending
        if (!event) return resolve("timeout")
        this.pending = undefined
        this.delivered = event.id
        resolve(event)
      }
      const timer = setTimeout(take, waitMs)
      if (this.pending || this.closed) return take()
      this.wake = take
    })
  }

  close() {
    if (this.closed) return
    this.closed = true
    this.onClose(this)
    this.wake?.()
  }
}

export interface FeedOptions {
  /** Entries of `dashboard.changes` scanned at most to answer a Last-Event-ID (default 10,000). */
  readonly resumeScanLimit?: number
}

export const make = (options: FeedOptions = {}) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const store = yield* DocumentStore.DocumentStore
    const readModels = yield* ReadModel.ReadModel
    const documents = yield* DashboardDocuments
    const stream = Keys.stream(changes.name)
    const scanLimit = options.resumeScanLimit ?? 10_000
    const subscribers = new Map<string, Set<Sub>>()
    const forget = (sub: Sub) => {
      const set = subscribers.get(sub.customerId)
      set?.delete(sub)
      if (set?.size === 0) subscribers.delete(sub.customerId)
    }

    const documentText = (customerId: string) =>
      readModels.documentKey(readModel, customerId).pipe(
        Effect.flatMap((key) => store.getRaw(key)),
        Effect.map(Option.getOrElse(() => JSON.stringify(Dashboard.empty(customerId))))
      )

    const newestId = Effect.map(
      redis.send<Array<RawEntry>>("XREVRANGE", stream, "+", "-", "COUNT", "1"),
      (entries) => entries[0]?.[0] ?? "0-0"
    )
    let tailedTo = yield* newestId

    // One round: read what is new, then push each affected customer's document once.
    const tailOnce = (connection: Redis["Service"]["send"]) =>
      Effect.gen(function* () {
        const reply = yield* connection<Array<[string, Array<RawEntry>]> | null>(
          "XREAD",
          "COUNT",
          "1000",
          "BLOCK",
          "5000",
          "STREAMS",
          stream,
          tailedTo
        )
        const entries = reply?.[0]?.[1] ?? []
        const latest = new Map<string, { id: string; traceparent: string | undefined }>()
        const changed = new Set<string>()
        for (const [id, fields] of entries) {
          const customerId = keyField(fields)
          if (customerId !== undefined) changed.add(customerId)
          if (customerId !== undefined && subscribers.has(customerId))
            latest.set(customerId, { id, traceparent: field(fields, "tp") })
        }
        // Before anything is pushed: a GET after an event must not see the cached document before it.
        yield* Effect.forEach(changed, documents.forget, { discard: true })
        if (entries.length > 0) tailedTo = entries.at(-1)![0]
        yield* Effect.forEach(
          latest,
          ([customerId, { id, traceparent }]) =>
            Effect.map(documentText(customerId), (data) => {
              for (const sub of subscribers.get(customerId) ?? []) sub.offer({ id, data })
            }).pipe(
              Effect.withSpan(
                "DashboardFeed.push",
                {
                  parent: Tracing.parentOf(traceparent),
                  kind: "consumer",
                  attributes: { "bank.customer_id": customerId, streams: subscribers.get(customerId)?.size ?? 0 }
                },
                { captureStackTrace: false }
              )
            ),
          { concurrency: 16, discard: true }
        )
      })

    const tail = Effect.scoped(
      Effect.gen(function* () {
        const connection = yield* redis.reserve
        while (true) yield* tailOnce(connection.send)
      })
    ).pipe(
      Effect.catchCause((cause) =>
        Effect.logWarning("dashboard feed interrupted; reconnecting", cause).pipe(Effect.andThen(Effect.sleep(500)))
      ),
      Effect.forever
    )
    yield* Effect.forkScoped(tail)

    // Whether the customer's dashboard changed after `since`: the newest such entry id, or
    // "unknown" when the stream no longer holds `since` or the scan reached its bound.
    const changedSince = (customerId: string, since: string) =>
      Effect.gen(function* () {
        // Nothing can follow the largest id (and Redis refuses an exclusive range from it).
        if (since === `${U64_MAX}-${U64_MAX}`) return undefined
        const [first] = yield* redis.send<Array<RawEntry>>("XRANGE", stream, "-", "+", "COUNT", "1")
        if (first && compareIds(first[0], since) > 0) return "unknown" as const
        let from = `(${since}`
        let scanned = 0
        let found: string | undefined
        while (scanned < scanLimit) {
          const page = yield* redis.send<Array<RawEntry>>("XRANGE", stream, from, "+", "COUNT", "1000")
          for (const [id, fields] of page) if (keyField(fields) === customerId) found = id
          scanned += page.length
          if (page.length < 1000) return found
          from = `(${page.at(-1)![0]}`
        }
        return "unknown" as const
      })

    const subscribe = (customerId: string, lastEventId: string | undefined) =>
      Effect.gen(function* () {
        const sub = new Sub(customerId, forget)
        // Registered first, so no change between the look below and the tail's next round is missed.
        const set = subscribers.get(customerId) ?? new Set<Sub>()
        set.add(sub)
        subscribers.set(customerId, set)
        const resume = lastEventId !== undefined && isEntryId(lastEventId) ? lastEventId : undefined
        const seen = tailedTo
        const first = Effect.gen(function* () {
          const since = resume === undefined ? "unknown" : yield* changedSince(customerId, resume)
          if (resume !== undefined && since === undefined) {
            sub.delivered = resume
            return
          }
          const id = since === "unknown" || since === undefined ? seen : since
          sub.offer({ id: compareIds(id, "0-0") > 0 ? id : "0-1", data: yield* documentText(customerId) })
        })
        yield* first.pipe(Effect.onError(() => Effect.sync(() => sub.close())))
        return sub as Subscription
      }).pipe(Effect.withSpan("DashboardFeed.subscribe"))

    return DashboardFeed.of({
      subscribe,
      size: Effect.sync(() => [...subscribers.values()].reduce((n, s) => n + s.size, 0))
    })
  })

export const layer = (
  options: FeedOptions = {}
): Layer.Layer<
  DashboardFeed,
  RedisError,
  Redis | DocumentStore.DocumentStore | ReadModel.ReadModel | DashboardDocuments
> => Layer.effect(DashboardFeed, make(options))
