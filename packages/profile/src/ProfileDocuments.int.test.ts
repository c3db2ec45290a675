// The profile GET /v1/profile serves, through the client-side cache, against a real Redis: a
// document or an outcome written on another connection (the projector, the writer) is served in
// its new version by the next read once Redis has told us (a moment), and at once after
// `forget` (a read with a Consistency-Token).
import { DocumentStore, ReadModel, RedisClient } from "@bank/platform"
import { useRedis } from "@bank/test-kit"
import { Effect, Layer, Option, References } from "effect"
import { Redis } from "effect/persistence/Redis"
import { describe, expect, it } from "vitest"
import { forget, layer, peek, ProfileDocuments, text } from "./ProfileDocuments.ts"

const server = useRedis()

const services = (cache: boolean) =>
  Layer.mergeAll(layer({ cache }), Layer.succeed(References.MinimumLogLevel, "Error")).pipe(
    Layer.provideMerge(Layer.mergeAll(DocumentStore.layerBackend("lua"), ReadModel.layer())),
    Layer.provideMerge(RedisClient.layer(server.server.url))
  )
type Services = Layer.Success<ReturnType<typeof services>>

const doc = (customerId: string, version: number) => JSON.stringify({ customerId, version })
/** Written on the layer's own pool: another connection than the tracked one, as another process's. */
const write = (key: string, value: string) => Redis.use((redis) => redis.send("SET", key, value))

/** The answer as GET /v1/profile gives it (synchronously when it can), undefined for 404. */
const answer = (customerId: string) =>
  Effect.gen(function* () {
    const hit = peek(yield* ProfileDocuments, yield* ReadModel.ReadModel, customerId)
    return hit ?? Option.getOrUndefined(yield* text(customerId))
  })

/** Reads until `expected`, within 100 ms of the write (Redis's push may come a moment after the writer's reply). */
const seen = (customerId: string, expected: string | undefined) =>
  Effect.gen(function* () {
    const written = Date.now()
    while ((yield* answer(customerId)) !== expected) {
      expect(Date.now() - written).toBeLessThan(100)
      yield* Effect.yieldNow
    }
  })

const runWith = <A, E>(cache: boolean, body: Effect.Effect<A, E, Services>) =>
  Effect.runPromise(Effect.provide(body, services(cache)) as Effect.Effect<A, E>)

describe("ProfileDocuments", () => {
  it.each([true, false])("serves what another connection writes to the document or the outcome (cache %s)", (cache) =>
    runWith(
      cache,
      Effect.gen(function* () {
        expect((yield* ProfileDocuments).cached).toBe(cache)
        const customerId = cache ? "91" : "92"
        const key = `{c:${customerId}}:doc:profile`
        const outcomeKey = `{c:${customerId}}:profile-last-update`
        // No profile: a 404, never a synchronous answer; creating it is seen.
        expect(yield* answer(customerId)).toBeUndefined()
        yield* write(key, doc(customerId, 1))
        yield* seen(customerId, doc(customerId, 1))
        // Once read after the write, a hot profile is answered synchronously.
        yield* text(customerId)
        if (cache)
          expect(peek(yield* ProfileDocuments, yield* ReadModel.ReadModel, customerId)).toBe(doc(customerId, 1))
        for (let version = 2; version <= 4; version++) {
          yield* write(key, doc(customerId, version))
          yield* seen(customerId, doc(customerId, version))
        }
        // The writer's outcome, beside the document, is added at its end; a new one is seen too.
        const outcome = (status: string) => JSON.stringify({ requestId: "r1", status })
        const withOutcome = (status: string) => `${doc(customerId, 4).slice(0, -1)},"lastUpdate":${outcome(status)}}`
        yield* write(outcomeKey, outcome("applied"))
        yield* seen(customerId, withOutcome("applied"))
        yield* write(outcomeKey, outcome("rejected"))
        yield* seen(customerId, withOutcome("rejected"))
        yield* Redis.use((redis) => redis.send("DEL", key))
        yield* seen(customerId, undefined)
      })
    )
  )

  it("forgets at once what a read with a Consistency-Token saw change", () =>
    runWith(
      true,
      Effect.gen(function* () {
        const key = "{c:93}:doc:profile"
        yield* write(key, doc("93", 1))
        yield* seen("93", doc("93", 1))
        yield* text("93")
        expect(peek(yield* ProfileDocuments, yield* ReadModel.ReadModel, "93")).toBe(doc("93", 1))
        yield* write(key, doc("93", 2))
        // As the route does after the wait: no waiting for Redis's push.
        yield* forget("93")
        expect(peek(yield* ProfileDocuments, yield* ReadModel.ReadModel, "93")).toBeUndefined()
        expect(Option.getOrUndefined(yield* text("93"))).toBe(doc("93", 2))
      })
    ))
})
