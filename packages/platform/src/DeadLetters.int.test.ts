// Dead-letter tools against a real Redis and a real actor: a message the handler cannot take
// is dead-lettered; list/show find it by stream, group and id; once the cause is fixed, redrive
// puts the same envelope (message id, trace context) on the stream again and removes the dead
// letter only after the group acknowledged it; a redrive that fails again keeps one dead letter
// (the newest, with its error); purge deletes what it is given.
import { Effect, Exit, Layer, Scope } from "effect"
import type { Redis } from "effect/persistence/Redis"
import { createClient } from "redis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "@bank/test-kit"
import * as Actor from "./Actor.ts"
import * as DeadLetters from "./DeadLetters.ts"
import type * as Envelope from "./Envelope.ts"
import * as Keys from "./Keys.ts"
import { StreamLog } from "./StreamLog.ts"
import { counted, layer, runWith } from "./testing/TestStreams.ts"

const redisServer = useRedis()
let client: ReturnType<typeof createClient>
beforeAll(async () => {
  client = createClient({ url: redisServer.server.url })
  await client.connect()
})
afterAll(async () => {
  await client?.close()
})

const waitUntil = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const startActor = async <E>(options: Actor.ActorOptions<any, E, Redis>) => {
  const scope = await Effect.runPromise(Scope.make())
  await Effect.runPromise(
    Effect.gen(function* () {
      const context = yield* Layer.buildWithScope(layer(redisServer.server.url), scope)
      yield* Actor.run(options).pipe(Effect.provideContext(context), Effect.provideService(Scope.Scope, scope))
    })
  )
  return () => Effect.runPromise(Scope.close(scope, Exit.void))
}
const tools = <A>(program: Effect.Effect<A, unknown, any>) => runWith(redisServer.server.url, program)

describe("DeadLetters", () => {
  it("lists, shows and redrives a dead letter with its original envelope, then removes it", async () => {
    const spec = counted("test.dlq.redrive")
    let broken = true
    const handled: Array<Envelope.Delivered<any>> = []
    const stop = await startActor({
      group: "bookkeeper",
      stream: spec,
      maxDeliveries: 2,
      retryDelayMs: 5,
      handle: (m) =>
        m.payload.poison && broken ? Effect.fail(new Error("ledger closed")) : Effect.sync(() => handled.push(m))
    })
    try {
      await tools(
        Effect.gen(function* () {
          const log = yield* StreamLog
          for (let seq = 0; seq < 5; seq++)
            yield* log.publish(spec, {
              key: "k",
              payload: { _tag: "Counted", seq, ...(seq === 3 ? { poison: true } : {}) }
            })
        })
      )
      await waitUntil("one dead letter", async () => (await client.xLen(Keys.deadLetter(spec.name))) === 1)

      const depths = await tools(DeadLetters.streams())
      expect(depths).toContainEqual({ stream: spec.name, depth: 1 })
      const [letter] = await tools(DeadLetters.list({ stream: spec.name, group: "bookkeeper" }))
      expect(letter!.error).toContain("ledger closed")
      expect(letter!.deliveries).toBe(2)
      expect(await tools(DeadLetters.list({ stream: spec.name, group: "someone-else" }))).toEqual([])
      expect(await tools(DeadLetters.list({ stream: spec.name, from: letter!.id, to: letter!.id }))).toHaveLength(1)
      const original = Object.fromEntries(letter!.fields)
      expect(JSON.parse(original["data"]!).seq).toBe(3)

      // Still broken: the redrive is dead-lettered again; one dead letter stays, the newest.
      const again = await tools(DeadLetters.redrive({ stream: spec.name, ids: [letter!.id] }, { timeoutMs: 30_000 }))
      expect(again[0]!.outcome).toBe("failed-again")
      const [second] = await tools(DeadLetters.list({ stream: spec.name }))
      expect(await client.xLen(Keys.deadLetter(spec.name))).toBe(1)
      expect(second!.id).not.toBe(letter!.id)

      broken = false
      const outcomes = await tools(
        DeadLetters.redrive({ stream: spec.name, group: "bookkeeper" }, { timeoutMs: 30_000 })
      )
      expect(outcomes.map((o) => o.outcome)).toEqual(["redriven"])
      expect(await client.xLen(Keys.deadLetter(spec.name))).toBe(0)
      const redriven = handled.find((m) => m.payload.seq === 3)!
      // The same envelope: message id, correlation and trace context as first published.
      expect(redriven.id).toBe(original["id"])
      expect(redriven.trace.traceparent).toBe(original["tp"])
      expect(redriven.entryId).toBe(outcomes[0]!.newEntryId)
      const pending = (await client.sendCommand(["XPENDING", Keys.stream(spec.name), "bookkeeper"])) as [number]
      expect(Number(pending[0])).toBe(0)
    } finally {
      await stop()
    }
  }, 90_000)

  it("purges the dead letters of a range and leaves the others", async () => {
    const name = "test.dlq.purge"
    const ids: Array<string> = []
    for (let i = 0; i < 4; i++)
      ids.push(
        await client.xAdd(Keys.deadLetter(name), "*", {
          data: `{"n":${i}}`,
          "dead.group": i < 3 ? "g1" : "g2",
          "dead.error": "boom"
        })
      )
    const purged = await tools(DeadLetters.purge({ stream: name, group: "g1", from: ids[1]!, to: ids[3]! }))
    expect(purged).toEqual([ids[1], ids[2]])
    const left = await tools(DeadLetters.list({ stream: name }))
    expect(left.map((d) => d.id)).toEqual([ids[0], ids[3]])
  })
})
