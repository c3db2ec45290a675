import { Effect, Exit, Fiber, Layer, Scope } from "effect"
import { connectRedis, type TestRedisClient, useRedis } from "@bank/test-kit"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Keys from "./Keys.ts"
import * as RequestReply from "./RequestReply.ts"
import { layer, pingSpec } from "./testing/TestStreams.ts"

const redisServer = useRedis()
let client: TestRedisClient
beforeAll(async () => {
  client = await connectRedis(redisServer.server.url)
})
afterAll(async () => {
  await client?.close()
})

/** Builds the platform layers plus a requester in a scope the test closes itself. */
const start = async () => {
  const scope = await Effect.runPromise(Scope.make())
  const context = await Effect.runPromise(
    Layer.buildWithScope(RequestReply.layerRequester.pipe(Layer.provideMerge(layer(redisServer.server.url))), scope)
  )
  const run = <A, E>(effect: Effect.Effect<A, E, any>) =>
    Effect.runPromise(
      effect.pipe(Effect.provideContext(context), Effect.provideService(Scope.Scope, scope)) as Effect.Effect<
        A,
        E,
        never
      >
    )
  return { run, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

const startResponder = (
  run: Awaited<ReturnType<typeof start>>["run"],
  spec: ReturnType<typeof pingSpec>,
  seen: Array<string>
) =>
  run(
    RequestReply.respond({
      group: "pingers",
      spec,
      handle: (request) =>
        Effect.sync(() => seen.push(request.payload.text)).pipe(
          Effect.as({ _tag: "Pong" as const, text: request.payload.text.toUpperCase(), by: "responder" })
        )
    })
  )

describe("request/reply over streams", () => {
  it("answers each of many concurrent requests with its own reply", async () => {
    const spec = pingSpec("test.rr.ping")
    const app = await start()
    const seen: Array<string> = []
    await startResponder(app.run, spec, seen)
    const texts = Array.from({ length: 50 }, (_, i) => `hello-${i}`)
    const replies = await app.run(
      Effect.forEach(
        texts,
        (text) =>
          Effect.gen(function* () {
            const requester = yield* RequestReply.Requester
            return yield* requester.request(spec, { key: text, payload: { _tag: "Ping", text } }, { timeoutMs: 5000 })
          }),
        { concurrency: "unbounded" }
      )
    )
    expect(replies.map((r) => r.text)).toEqual(texts.map((t) => t.toUpperCase()))
    await app.close()
  })

  it("times out cleanly when nobody answers, and the late responder skips the expired request", async () => {
    const spec = pingSpec("test.rr.silent")
    const app = await start()
    const started = Date.now()
    const exit = await app.run(
      Effect.exit(
        Effect.gen(function* () {
          const requester = yield* RequestReply.Requester
          return yield* requester.request(
            spec,
            { key: "x", payload: { _tag: "Ping", text: "anyone?" } },
            { timeoutMs: 300 }
          )
        })
      )
    )
    const elapsed = Date.now() - started
    expect(Exit.isFailure(exit)).toBe(true)
    expect(JSON.stringify(exit)).toContain("RequestTimeout")
    expect(elapsed).toBeGreaterThanOrEqual(300)

    const seen: Array<string> = []
    await startResponder(app.run, spec, seen)
    const pending = async () =>
      Number(
        ((await client.sendCommand(["XPENDING", Keys.stream(spec.requests.name), "pingers"])) as Array<unknown>)[0]
      )
    const deadline = Date.now() + 10_000
    while (
      (await client.xInfoGroups(Keys.stream(spec.requests.name)))[0]?.["entries-read"] !== 1 ||
      (await pending()) > 0
    ) {
      if (Date.now() > deadline) throw new Error("responder never consumed the request")
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(seen).toEqual([])
    await app.close()
  })

  it("fails a waiting request at shutdown instead of leaving it waiting, and removes its reply stream", async () => {
    const spec = pingSpec("test.rr.shutdown")
    const app = await start()
    const instance = await app.run(
      Effect.gen(function* () {
        return (yield* RequestReply.Requester).instanceId
      })
    )
    const fiber = await app.run(
      Effect.forkDetach(
        Effect.gen(function* () {
          const requester = yield* RequestReply.Requester
          return yield* requester.request(
            spec,
            { key: "x", payload: { _tag: "Ping", text: "bye" } },
            { timeoutMs: 60_000 }
          )
        })
      )
    )
    while ((await client.xLen(Keys.stream(spec.requests.name))) === 0) await new Promise((r) => setTimeout(r, 10))
    await client.xAdd(Keys.replies(instance), "*", { note: "keeps the reply stream alive" })
    await app.close()
    const exit = await Effect.runPromise(Fiber.await(fiber))
    expect(JSON.stringify(exit)).toContain("ShuttingDown")
    expect(await client.exists(Keys.replies(instance))).toBe(0)
  })
})

describe("request/reply and Redis restarts", () => {
  it("answers again after Redis restarted without its data", async () => {
    const spec = pingSpec("test.rr.restart")
    const app = await start()
    await startResponder(app.run, spec, [])
    const ask = (text: string) =>
      app.run(
        Effect.gen(function* () {
          const requester = yield* RequestReply.Requester
          return yield* requester.request(spec, { key: text, payload: { _tag: "Ping", text } }, { timeoutMs: 5000 })
        })
      )
    expect((await ask("before")).text).toBe("BEFORE")
    await client.close()
    await redisServer.server.restart()
    client = await connectRedis(redisServer.server.url)
    const deadline = Date.now() + 20_000
    let answer: string | undefined
    while (answer === undefined) {
      answer = await ask("after").then(
        (r) => r.text,
        async (e) => {
          if (Date.now() > deadline) throw e
          await new Promise((r) => setTimeout(r, 100))
          return undefined
        }
      )
    }
    expect(answer).toBe("AFTER")
    await app.close()
  }, 60_000)
})
