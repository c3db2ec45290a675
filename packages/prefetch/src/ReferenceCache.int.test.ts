// The reference data the edge serves, through the client-side caches of the pointer and the data
// set's hash, against a real Redis: what another process writes (the prefetch actor reloading a
// set, an invalidation, a rebuild's switch; here on another connection) is seen by the next read once Redis has told us (a
// moment), and a body older than MAX_AGE_MS is never answered synchronously.
import { ReadModel, RedisClient } from "@bank/platform"
import { useRedis } from "@bank/test-kit"
import { Effect, Layer, References } from "effect"
import { Redis } from "effect/persistence/Redis"
import { describe, expect, it } from "vitest"
import { cacheLayer, keyOf, MAX_AGE_MS, readModel, ReferenceCache } from "./ReferenceData.ts"

const server = useRedis()

// Writes go through the layer's own pool: another connection than the tracked ones, as another process's.
const run = <A, E>(cache: boolean, body: Effect.Effect<A, E, ReferenceCache | Redis>) =>
  Effect.runPromise(
    Effect.provide(
      body,
      Layer.mergeAll(cacheLayer({ cache }), Layer.succeed(References.MinimumLogLevel, "Error")).pipe(
        Layer.provideMerge(RedisClient.layer(server.server.url))
      )
    ) as Effect.Effect<A, E>
  )
const send = (command: string, ...args: ReadonlyArray<string>) => Redis.use((redis) => redis.send(command, ...args))

/** The body a read answers as the route does (peek first), or undefined for "load from PostgreSQL". */
const bodyNow = (cache: ReferenceCache["Service"]) =>
  Effect.gen(function* () {
    const hit = cache.peek("products")
    if (hit !== undefined) return hit
    const { hash } = yield* cache.stored("products")
    return hash.body !== undefined && Date.now() - Number(hash.loadedAt) < MAX_AGE_MS ? hash.body : undefined
  })

/** Reads until `expected`, within 100 ms of the write (Redis's push may come a moment after the writer's reply). */
const seen = (cache: ReferenceCache["Service"], expected: string | undefined) =>
  Effect.gen(function* () {
    const written = Date.now()
    while ((yield* bodyNow(cache)) !== expected) {
      expect(Date.now() - written).toBeLessThan(100)
      yield* Effect.yieldNow
    }
  })

const store = (key: string, body: string, loadedAt = Date.now()) =>
  send("HSET", key, "gen", "1", "body", body, "loadedAt", String(loadedAt))

describe("ReferenceCache", () => {
  it("serves what another process writes, switches generation with the pointer, cached or not", () =>
    // One after the other: both read the same global keys.
    [true, false].reduce(
      (previous, cached) =>
        previous.then(() =>
          run(
            cached,
            Effect.gen(function* () {
              const cache = yield* ReferenceCache
              expect(cache.cached).toBe(cached)
              yield* send("DEL", keyOf("products"), keyOf("products", 2), ReadModel.pointerKey(readModel))
              // Nothing stored: never a synchronous answer; the set appearing is seen.
              expect(yield* bodyNow(cache)).toBeUndefined()
              expect((yield* cache.stored("products")).generation).toBe(1)
              yield* store(keyOf("products"), "v1")
              yield* seen(cache, "v1")
              yield* cache.stored("products")
              if (cached) expect(cache.peek("products")).toBe("v1")
              // The actor reloads it; CDC invalidates it (the body goes).
              yield* store(keyOf("products"), "v2")
              yield* seen(cache, "v2")
              yield* send("HDEL", keyOf("products"), "body")
              yield* seen(cache, undefined)
              // A rebuild's generation 2 and the switch of the pointer.
              yield* store(keyOf("products"), "v3")
              yield* seen(cache, "v3")
              yield* store(keyOf("products", 2), "g2")
              yield* send("SET", ReadModel.pointerKey(readModel), "2")
              yield* seen(cache, "g2")
              expect((yield* cache.stored("products")).generation).toBe(2)
              // A body loaded too long ago is read again from PostgreSQL, never answered from the cache.
              yield* store(keyOf("products", 2), "old", Date.now() - MAX_AGE_MS - 1)
              yield* seen(cache, undefined)
              expect(cache.peek("products")).toBeUndefined()
            })
          )
        ),
      Promise.resolve()
    ))
})
