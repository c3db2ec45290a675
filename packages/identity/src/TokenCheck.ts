// The check every authenticated request goes through: `Authorization: Bearer <token>` to the
// customer, session and roles, in one Redis round trip (HGETALL of the token's record, whose
// TTL is the token's). A token that is not even token-shaped costs no round trip at all.
//
// With IDENTITY_TOKEN_CACHE=true the lookups go through a separate RESP3 connection with
// server-assisted client-side caching (platform TrackedHashes.ts; CLIENT TRACKING): Redis tracks
// which records this process has cached and pushes an invalidation the moment one is written,
// deleted or expires, so a revoked token is refused at once while a hot token costs no round
// trip and no Effect run (`cachedPrincipal`). The cache is dropped whenever that connection
// breaks (no invalidation could reach us then). See scripts/bench-edge.ts for what it buys.
// Every cached lookup counts on the edge's /metrics as `token_check_cache_total{result="hit"}`
// (the record was in the cache) or `{result="miss"}` (a round trip to Redis follows).
import type { Principal } from "@bank/contracts"
import { RedisTopology } from "@bank/platform"
import * as IdentityKeys from "./IdentityKeys.ts"
import { Context, Effect, Layer, Metric, Option } from "effect"
import { Redis, type RedisError } from "effect/persistence/Redis"
import { Unauthenticated } from "./Errors.ts"
import { IdentityConfig } from "./IdentityConfig.ts"
import * as Secrets from "./Secrets.ts"
import * as TokenStore from "./TokenStore.ts"

export class TokenCheck extends Context.Service<
  TokenCheck,
  {
    /** The principal behind an Authorization header, or Unauthenticated. */
    readonly resolve: (authorization: string | undefined) => Effect.Effect<Principal, Unauthenticated | RedisError>
    /**
     * The principal when the token's record is in the client-side cache, synchronously (no
     * Effect, no round trip); undefined means "ask `resolve`", which also answers every refusal.
     */
    readonly cachedPrincipal: (authorization: string | undefined) => Principal | undefined
    /** Whether lookups are served from the client-side cache. */
    readonly cached: boolean
  }
>()("@bank/identity/TokenCheck") {}

/** The token of a Bearer header (scheme case-insensitive, RFC 6750), if there is one. */
export const bearerToken = (authorization: string | undefined): string | undefined => {
  const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(authorization ?? "")
  return match?.[1]
}

/** Lookups of token-shaped tokens in the client-side cache, by result (hit, miss). */
const cacheLookupsOptions = {
  description: "Token checks looked up in the edge's client-side cache, by result: hit (no round trip) or miss.",
  incremental: true
}
export const cacheLookups = Metric.counter("token_check_cache_total", cacheLookupsOptions)
// One counter per result with its label as its own attribute, not `withAttributes` on a shared
// one: in effect 4.1 that builds a new context on every update and re-keys the series each time
// the result differs from the previous one (RequestMetrics.ts in @bank/http says more).
const hits = Metric.counter("token_check_cache_total", { ...cacheLookupsOptions, attributes: { result: "hit" } })
const misses = Metric.counter("token_check_cache_total", { ...cacheLookupsOptions, attributes: { result: "miss" } })
// Counted synchronously: a cached check runs no Effect (the global registry, as Metric.update uses).
const noServices = Context.empty()

const missing = new Unauthenticated({ reason: "MissingToken" })
const invalid = new Unauthenticated({ reason: "InvalidToken" })

const make = (
  lookup: (key: string) => Effect.Effect<unknown, RedisError>,
  peek: ((key: string) => Readonly<Record<string, string>> | undefined) | undefined
) =>
  TokenCheck.of({
    cached: peek !== undefined,
    cachedPrincipal: (authorization) => {
      if (peek === undefined) return undefined
      const token = bearerToken(authorization)
      if (token === undefined || !Secrets.isTokenShaped(token)) return undefined
      const fields = peek(IdentityKeys.accessToken(Secrets.hashToken(token)))
      ;(fields === undefined ? misses : hits).updateUnsafe(1, noServices)
      return fields === undefined ? undefined : Option.getOrUndefined(TokenStore.principalOf(fields))
    },
    resolve: (authorization) => {
      const token = bearerToken(authorization)
      if (token === undefined) return Effect.fail(missing)
      if (!Secrets.isTokenShaped(token)) return Effect.fail(invalid)
      return lookup(IdentityKeys.accessToken(Secrets.hashToken(token))).pipe(
        Effect.flatMap((fields) => {
          const principal = TokenStore.principalOf(fields as ReadonlyArray<string> | Record<string, string> | null)
          return Option.isSome(principal) ? Effect.succeed(principal.value) : Effect.fail(invalid)
        })
      )
    }
  })

/** Plain lookups on the shared connection. */
export const layerDirect = Layer.effect(
  TokenCheck,
  Effect.gen(function* () {
    const redis = yield* Redis
    return make((key) => redis.send("HGETALL", key), undefined)
  })
)

/** Lookups through a RESP3 connection (per node on a cluster) with server-assisted client-side caching. */
export const layerCached = (options: { readonly maxEntries?: number; readonly ttlMs?: number } = {}) =>
  Layer.effect(
    TokenCheck,
    Effect.gen(function* () {
      const topology = yield* RedisTopology.RedisTopology
      // An upper bound on staleness should an invalidation ever be missed.
      const hashes = yield* topology.cachedHashes({
        ttlMs: options.ttlMs ?? 60_000,
        maxEntries: options.maxEntries ?? 100_000
      })
      return make(hashes.read, hashes.peek)
    })
  )

/** Direct or cached, as IDENTITY_TOKEN_CACHE says. */
export const layer: Layer.Layer<TokenCheck, RedisError, IdentityConfig | Redis | RedisTopology.RedisTopology> =
  Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* IdentityConfig
      return config.tokenCache
        ? layerCached()
        : (layerDirect as Layer.Layer<TokenCheck, RedisError, Redis | RedisTopology.RedisTopology>)
    })
  )
