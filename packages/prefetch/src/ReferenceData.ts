// Read-mostly reference data, cached in Redis and invalidated by CDC (`cdc.ref`): the product
// catalogue (ref.products) and exchange rates (ref.exchange_rates). Each data set is one hash,
// `global:ref:<name>`, holding the response body as served, when it was loaded, and a
// generation. A reader serves the body; without one it reads PostgreSQL and stores the result
// only if the generation is still the one it saw before reading (storeReference.lua), so a
// change that CDC reported meanwhile cannot be overwritten by older data. The prefetch actor
// invalidates on every change and loads the set again at the end of the transaction. A body
// older than MAX_AGE_MS is read again anyway, in case CDC itself stopped.
//
// It is a read model of PostgreSQL's ref.* tables with generations (platform ReadModel.ts):
// generation 1 keeps the keys above, generation N > 1 is `global:ref:g<N>:<data set>`; readers
// ask the pointer `global:readmodel:reference-data` on every read (a GET beside the HGETALL).
// `scripts/rebuild.ts reference-data` builds N+1 beside N (ReferenceDataProjection.ts).
//
// The edge reads both through a client-side cache the server keeps honest (ReferenceCache below,
// on platform TrackedHashes.ts: CLIENT TRACKING): the pointer and the hash are kept in process
// until Redis says either was written (an invalidation, a reload, a switch), so a hot read costs
// no round trip and no Effect run, and the next read after a write anywhere asks Redis again.
import { Database, Keys, Lua, ReadModel, RedisTopology } from "@bank/platform"
import { minorToText } from "@bank/records"
import { Config, Context, Effect, Layer } from "effect"
import { Redis, type RedisError, script } from "effect/persistence/Redis"

const source = Lua.loader(new URL("./lua/", import.meta.url))

const storeScript = script(
  (key: string, gen: string, body: string, loadedAt: number) => [key, gen, body, String(loadedAt)],
  { lua: source("storeReference"), numberOfKeys: 1 }
).withReturnType<number>()

const invalidateScript = script((key: string) => [key], {
  lua: source("invalidateReference"),
  numberOfKeys: 1
}).withReturnType<number>()

export const MAX_AGE_MS = 60 * 60_000

const products = Database.Database.use((db) =>
  db
    .query<{
      system: string
      product: string
      name: string
      description: string
      rate: string | null
      fee: string
      fee_currency: string
      exponent: number
      available: boolean
      updated_at: string
    }>(
      `SELECT p.system, p.product, p.name, p.description, p.interest_rate::text AS rate, p.annual_fee::text AS fee,
            p.fee_currency, c.minor_unit AS exponent, p.available,
            to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS updated_at
       FROM ref.products p JOIN ref.currencies c ON c.code = p.fee_currency ORDER BY p.system, p.product`
    )
    .pipe(
      Effect.map((rows) => ({
        products: rows.map((r) => ({
          system: r.system,
          product: r.product,
          name: r.name,
          description: r.description,
          interestRate: r.rate,
          annualFee: { amount: minorToText(BigInt(r.fee), Number(r.exponent)), currency: r.fee_currency },
          available: r.available,
          updatedAt: r.updated_at
        }))
      }))
    )
)

const exchangeRates = Database.Database.use((db) =>
  db
    .query<{ base: string; quote: string; rate: string; as_of: string }>(
      `SELECT base, quote, rate::text AS rate, to_char(as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS as_of
       FROM ref.exchange_rates ORDER BY base, quote`
    )
    .pipe(
      Effect.map((rows) => ({
        rates: rows.map((r) => ({ base: r.base, quote: r.quote, rate: r.rate, asOf: r.as_of }))
      }))
    )
)

export const dataSets = {
  products: { id: "products", tables: ["products", "currencies"], load: products },
  exchangeRates: { id: "exchange-rates", tables: ["exchange_rates"], load: exchangeRates }
} as const
export type DataSet = keyof typeof dataSets
export const allDataSets = Object.keys(dataSets) as ReadonlyArray<DataSet>

/** The read model's name: its generation pointer. */
export const readModel = "reference-data"

/** The cache of a data set in `generation`: `global:ref:<id>` for 1, `global:ref:g<N>:<id>` after. */
export const keyOf = (name: DataSet, generation = 1): string =>
  Keys.global(generation <= 1 ? `ref:${dataSets[name].id}` : `ref:g${generation}:${dataSets[name].id}`)

/** The keys of one generation, exact (SCAN MATCH patterns without a wildcard), for deletion. */
export const keysOf = (generation: number): ReadonlyArray<string> => allDataSets.map((name) => keyOf(name, generation))

/** The generation readers use now (the pointer, uncached). */
export const currentGeneration = ReadModel.generation(readModel)

/** The ref.* tables whose changes concern each data set. */
export const dataSetsOf = (table: string): ReadonlyArray<DataSet> =>
  (Object.keys(dataSets) as Array<DataSet>).filter((name) =>
    (dataSets[name].tables as ReadonlyArray<string>).includes(table)
  )

/** Reads the set from PostgreSQL and stores it unless it was invalidated meanwhile. */
const load = (name: DataSet, stamp: string, generation: number) =>
  Effect.gen(function* () {
    const body = JSON.stringify(yield* dataSets[name].load)
    const redis = yield* Redis
    yield* redis.eval(storeScript)(keyOf(name, generation), stamp, body, Date.now())
    return body
  })

/** What a data set's hash holds (HGETALL: `gen`, `body`, `loadedAt`), and the generation it is of. */
export interface Stored {
  readonly generation: number
  readonly hash: Readonly<Record<string, string>>
}

/** The body when the hash holds one loaded less than MAX_AGE_MS ago. */
const freshBody = (hash: Readonly<Record<string, string>>): string | undefined => {
  const body = hash.body
  return body && Date.now() - Number(hash.loadedAt) < MAX_AGE_MS ? body : undefined
}

/**
 * The reference data sets as Redis holds them now: the pointer and the data set's hash, through
 * tracked client-side caches (a write anywhere drops them) or, uncached, straight from Redis.
 */
export class ReferenceCache extends Context.Service<
  ReferenceCache,
  {
    /** The current generation's hash of the data set (an empty record while there is none). */
    readonly stored: (name: DataSet) => Effect.Effect<Stored, RedisError>
    /**
     * The body, synchronously, when the pointer and the hash are cached and the body is fresh
     * (no Effect, no round trip); undefined means "ask `read`".
     */
    readonly peek: (name: DataSet) => string | undefined
    readonly cached: boolean
  }
>()("@bank/prefetch/ReferenceCache") {}

export interface CacheOptions {
  readonly cache: boolean
  /** Longest an entry stays cached should an invalidation ever be lost (default 60 s). */
  readonly ttlMs?: number
}

export const makeCache = (options: CacheOptions) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const pointer = ReadModel.pointerKey(readModel)
    if (!options.cache) {
      return ReferenceCache.of({
        cached: false,
        peek: () => undefined,
        stored: (name) =>
          Effect.flatMap(ReadModel.generation(readModel).pipe(Effect.provideService(Redis, redis)), (generation) =>
            Effect.map(
              redis.send<Array<string | null>>("HMGET", keyOf(name, generation), "gen", "body", "loadedAt"),
              ([gen, body, loadedAt]) => ({
                generation,
                hash: {
                  ...(gen == null ? {} : { gen }),
                  ...(body == null ? {} : { body }),
                  ...(loadedAt == null ? {} : { loadedAt })
                }
              })
            )
          )
      })
    }
    const topology = yield* RedisTopology.RedisTopology
    const ttlMs = options.ttlMs ?? 60_000
    // Two pointers' worth and a few data sets per generation: small.
    const pointers = yield* topology.cachedStrings({ maxEntries: 16, ttlMs })
    const hashes = yield* topology.cachedHashes({ maxEntries: 64, ttlMs })
    return ReferenceCache.of({
      cached: true,
      peek: (name) => {
        const current = pointers.peek(pointer)
        if (current === undefined) return undefined
        const hash = hashes.peek(keyOf(name, ReadModel.parseGeneration(current)))
        return hash === undefined ? undefined : freshBody(hash)
      },
      stored: (name) =>
        Effect.flatMap(pointers.read(pointer), (current) => {
          const generation = ReadModel.parseGeneration(current)
          return Effect.map(hashes.read(keyOf(name, generation)), (hash) => ({ generation, hash }))
        })
    })
  })

/** Needs Redis and RedisTopology. */
export const cacheLayer = (options: CacheOptions) => Layer.effect(ReferenceCache, makeCache(options))

/** REFERENCE_DATA_CACHE (default true). */
export const cacheLayerConfig = Layer.unwrap(
  Effect.map(Config.Boolean("REFERENCE_DATA_CACHE").pipe(Config.withDefault(true)), (cache) => cacheLayer({ cache }))
)

/** The data set's body (JSON), and whether the cache served it. */
export const read = Effect.fn("ReferenceData.read")(function* (name: DataSet) {
  const { generation, hash } = yield* ReferenceCache.use((cache) => cache.stored(name))
  const body = freshBody(hash)
  if (body !== undefined) return { body, source: "redis" as const }
  return { body: yield* load(name, hash.gen ?? "0", generation), source: "postgres" as const }
})

/** CDC reported a change: drop the cached body of `generation` (default 1). */
export const invalidate = Effect.fn("ReferenceData.invalidate")(function* (name: DataSet, generation = 1) {
  const redis = yield* Redis
  return yield* redis.eval(invalidateScript)(keyOf(name, generation))
})

/**
 * Loads the set again into `generation` (default 1) if it is not cached there (after an
 * invalidation, or in a generation being built), so readers find it warm. Returns the body
 * stored, if it loaded one.
 */
export const warm = Effect.fn("ReferenceData.warm")(function* (name: DataSet, generation = 1) {
  const redis = yield* Redis
  const [gen, body] = yield* redis.send<Array<string | null>>("HMGET", keyOf(name, generation), "gen", "body")
  return body ? undefined : yield* load(name, gen ?? "0", generation)
})

/** The body cached in `generation`, if any. */
export const cached = (name: DataSet, generation: number) =>
  Redis.use((redis) => redis.send<string | null>("HGET", keyOf(name, generation), "body"))

/** The body as PostgreSQL gives it now. */
export const fromDatabase = (name: DataSet): Effect.Effect<string, Database.DatabaseError, Database.Database> =>
  Effect.map(dataSets[name].load as Effect.Effect<unknown, Database.DatabaseError, Database.Database>, (body) =>
    JSON.stringify(body)
  )
