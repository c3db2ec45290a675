// @bank/prefetch owns read-mostly data the app reads next, kept in Redis so reads rarely reach
// PostgreSQL: at each login, the prefetch actor loads the customer's recent transactions (every
// account, every product ledger, the last 90 days) into Redis with a TTL; CDC keeps those
// windows current entry by entry; `GET /v1/accounts/{id}/transactions` pages from them and falls
// back to PostgreSQL beyond the window or when nothing is prefetched. It also caches the
// reference data (product catalogue, exchange rates), invalidated by CDC, behind
// `GET /v1/reference/*`. Writes never come here: they go to the systems of record.
import { Layer } from "effect"
import * as ReferenceData from "./ReferenceData.ts"
import * as PrefetchActor from "./PrefetchActor.ts"
import * as PrefetchConfig from "./PrefetchConfig.ts"
import * as TransactionPages from "./TransactionPages.ts"

export * from "./Errors.ts"
export { prefetchOperations, TransactionPage } from "./Api.ts"
export { problems, type ProblemTag } from "./Problems.ts"
export { prefetchRoutes, type Services as RouteServices } from "./Routes.ts"
export { PrefetchActor, PrefetchConfig }
export * as Prefetcher from "./Prefetcher.ts"
export { ReferenceData }
export * as ReferenceDataProjection from "./ReferenceDataProjection.ts"
export * as TransactionCache from "./TransactionCache.ts"
export { TransactionPages }

/** The prefetch process: the actors configured from the environment, given Redis and Database. */
/**
 * What the edge needs for the prefetch routes, given Redis and RedisTopology: the reference
 * data's cache and the transaction pages' cache.
 */
export const edgeLayer = Layer.mergeAll(ReferenceData.cacheLayerConfig, TransactionPages.pageCacheLayerConfig)

export const actorLayer = PrefetchActor.layer.pipe(Layer.provide(PrefetchConfig.layerConfig))
export * as Errors from "./Errors.ts"
