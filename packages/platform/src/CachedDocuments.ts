// Stored documents (and other string keys of the document store) read through a client-side
// cache the server keeps honest (TrackedHashes.ts, CLIENT TRACKING via RedisTopology
// `cachedStrings`): a hot key costs no round trip, and the moment any process writes it, Redis
// tells this process to drop it. The read routes' caches (the dashboard's, the profile's) are
// built on it; each decides which keys it reads and when it must `forget` one (what it learnt
// was written before Redis's push could arrive).
//
// Only with the lua backend (documents are strings, read with GET); with RedisJSON, or when
// `cache` is false, every read goes to the document store as before.
import { Config, type Context, Effect, Layer, Option, type Scope } from "effect"
import type { RedisError } from "effect/persistence/Redis"
import { DocumentStore, type DocumentStoreError } from "./DocumentStore.ts"
import { RedisTopology } from "./RedisTopology.ts"

export interface CachedDocuments {
  /** The stored text, or null while there is none: from the cache, else from Redis. */
  readonly read: (key: string) => Effect.Effect<string | null, RedisError | DocumentStoreError>
  /** The same synchronously when it is cached (no Effect, no round trip); undefined means "read it". */
  readonly peek: (key: string) => string | null | undefined
  /** Drops `key` now, a read of it in flight included (the caller knows it changed). */
  readonly forget: (key: string) => void
  readonly cached: boolean
}

export interface Options {
  readonly cache: boolean
  /** Cached keys at most. */
  readonly maxEntries: number
  /** Longest a key stays cached should an invalidation ever be lost (default 60 s). */
  readonly ttlMs?: number
}

/** For the lifetime of the scope. */
export const make = (
  options: Options
): Effect.Effect<CachedDocuments, RedisError, DocumentStore | RedisTopology | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* DocumentStore
    const topology = yield* RedisTopology
    const cache =
      options.cache && store.backend === "lua"
        ? yield* topology.cachedStrings({ maxEntries: options.maxEntries, ttlMs: options.ttlMs ?? 60_000 })
        : undefined
    if (cache === undefined)
      return {
        cached: false,
        read: (key: string) => Effect.map(store.getRaw(key), Option.getOrNull),
        peek: () => undefined,
        forget: () => {}
      }
    return { cached: true, read: cache.read, peek: cache.peek, forget: cache.forget }
  })

/**
 * A route's cache as the service `tag`, on unless the environment variable `variable` is false
 * (e.g. PROFILE_DOCUMENT_CACHE). Needs DocumentStore and RedisTopology.
 */
export const layerConfig = <I>(tag: Context.Key<I, CachedDocuments>, variable: string, maxEntries: number) =>
  Layer.unwrap(
    Effect.map(Config.Boolean(variable).pipe(Config.withDefault(true)), (cache) =>
      Layer.effect(tag, make({ cache, maxEntries }))
    )
  )
