// The dashboard documents GET /v1/dashboard serves, through a client-side cache the server keeps
// honest (platform CachedDocuments.ts, CLIENT TRACKING): a hot dashboard costs no round trip, and
// the moment the projector writes a document, Redis tells this process to drop it.
//
// Never older than what this process's live feed pushed: the feed (DashboardFeed.ts) forgets a
// customer's cached document as soon as it reads a `dashboard.changes` entry for them, before it
// pushes anything, so a GET after an event cannot be answered from the document before it. On
// another edge process the document is dropped when that process reads Redis's invalidation,
// which Redis sends when the document is written, before the change entry can be read.
//
// Only with the lua backend (documents are strings, read with GET); with RedisJSON, or with
// DASHBOARD_DOCUMENT_CACHE=false, every read goes to Redis as before.
import { CachedDocuments, type DocumentStore, ReadModel } from "@bank/platform"
import { Config, Context, Effect, Layer } from "effect"
import type { RedisError } from "effect/persistence/Redis"
import * as Dashboard from "./Dashboard.ts"
import { readModel } from "./DashboardProjector.ts"

export class DashboardDocuments extends Context.Service<
  DashboardDocuments,
  {
    /** The customer's dashboard as stored (JSON text), or the empty dashboard while there is none. */
    readonly text: (customerId: string) => Effect.Effect<string, RedisError | DocumentStore.DocumentStoreError>
    /**
     * The same text synchronously when it is in the cache (no Effect, no round trip); undefined
     * means "ask `text`".
     */
    readonly peek: (customerId: string) => string | undefined
    /** Drops the customer's cached document (their dashboard changed). */
    readonly forget: (customerId: string) => Effect.Effect<void, RedisError>
    readonly cached: boolean
  }
>()("@bank/dashboard/DashboardDocuments") {}

export interface Options {
  readonly cache: boolean
  /** Cached documents at most (default 10,000: ~80 MB of 8 KiB documents). */
  readonly maxEntries?: number
  /** Longest a document stays cached should an invalidation ever be lost (default 60 s). */
  readonly ttlMs?: number
}

export const make = (options: Options) =>
  Effect.gen(function* () {
    const readModels = yield* ReadModel.ReadModel
    const cache = yield* CachedDocuments.make({ ...options, maxEntries: options.maxEntries ?? 10_000 })
    const orEmpty = (customerId: string) => (text: string | null) => text ?? JSON.stringify(Dashboard.empty(customerId))
    return DashboardDocuments.of({
      cached: cache.cached,
      text: (customerId) =>
        Effect.flatMap(readModels.documentKey(readModel, customerId), (key) => {
          const hit = cache.peek(key)
          return hit !== undefined
            ? Effect.succeed(orEmpty(customerId)(hit))
            : Effect.map(cache.read(key), orEmpty(customerId))
        }),
      peek: (customerId) => {
        const key = readModels.cachedDocumentKey(readModel, customerId)
        const hit = key === undefined ? undefined : cache.peek(key)
        return hit === undefined ? undefined : orEmpty(customerId)(hit)
      },
      forget: (customerId) =>
        cache.cached ? Effect.map(readModels.documentKey(readModel, customerId), cache.forget) : Effect.void
    })
  })

export const layer = (options: Options) => Layer.effect(DashboardDocuments, make(options))

/** DASHBOARD_DOCUMENT_CACHE (default true). */
export const layerConfig = Layer.unwrap(
  Effect.map(Config.Boolean("DASHBOARD_DOCUMENT_CACHE").pipe(Config.withDefault(true)), (cache) => layer({ cache }))
)
