// The dashboard documents GET /v1/dashboard serves, through the client-side cache, against a real
// Redis: a document the projector rewrites is never served in its old version once Redis has
// told us (a moment), and at once once the live feed has seen the change (`forget`).
import { DocumentStore, ReadModel, RedisClient } from "@bank/platform"
import { Effect, Layer, References } from "effect"
import { createClient } from "redis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "@bank/test-kit"
import { DashboardDocuments, layer } from "./DashboardDocuments.ts"

const server = useRedis()
let client: ReturnType<typeof createClient>
beforeAll(async () => {
  client = createClient({ url: server.server.url })
  await client.connect()
})
afterAll(() => client?.close())

const run = <A, E>(cache: boolean, body: Effect.Effect<A, E, DashboardDocuments>) =>
  Effect.runPromise(
    body.pipe(
      Effect.provide(
        layer({ cache }).pipe(
          Layer.provideMerge(Layer.mergeAll(DocumentStore.layerBackend("lua"), ReadModel.layer())),
          Layer.provideMerge(RedisClient.layer(server.server.url)),
          Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
        )
      )
    ) as Effect.Effect<A, E, never>
  )

const doc = (customerId: string, version: number) => JSON.stringify({ customerId, version })

describe("DashboardDocuments", () => {
  it("serves the new document after the projector rewrites it, cached or not", () =>
    Promise.all(
      [true, false].map((cache) =>
        run(
          cache,
          Effect.gen(function* () {
            const documents = yield* DashboardDocuments
            expect(documents.cached).toBe(cache)
            const customerId = cache ? "81" : "82"
            const key = `{c:${customerId}}:doc:dashboard`
            // None yet: the empty dashboard, and creating it is seen too.
            expect(JSON.parse(yield* documents.text(customerId)).customerId).toBe(customerId)
            yield* Effect.promise(() => client.set(key, doc(customerId, 1)))
            const started = Date.now()
            while ((yield* documents.text(customerId)) !== doc(customerId, 1)) {
              expect(Date.now() - started).toBeLessThan(100)
              yield* Effect.yieldNow
            }
            for (let version = 2; version <= 5; version++) {
              yield* Effect.promise(() => client.set(key, doc(customerId, version)))
              // The push may be read a moment after our SET's reply: allow that moment, no more.
              const written = Date.now()
              while ((yield* documents.text(customerId)) !== doc(customerId, version)) {
                expect(Date.now() - written).toBeLessThan(100)
                yield* Effect.yieldNow
              }
            }
          })
        )
      )
    ).then(() => undefined))

  it("forgets a document at once when the live feed saw it change", () =>
    run(
      true,
      Effect.gen(function* () {
        const documents = yield* DashboardDocuments
        const key = "{c:83}:doc:dashboard"
        yield* Effect.promise(() => client.set(key, doc("83", 1)))
        expect(yield* documents.text("83")).toBe(doc("83", 1))
        expect(yield* documents.text("83")).toBe(doc("83", 1))
        yield* Effect.promise(() => client.set(key, doc("83", 2)))
        // As the feed does before pushing the change: no waiting for Redis's push.
        yield* documents.forget("83")
        expect(yield* documents.text("83")).toBe(doc("83", 2))
      })
    ))
})
