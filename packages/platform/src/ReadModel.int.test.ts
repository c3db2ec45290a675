// Read-model generations against a real Redis: the pointer, its switch as every process sees
// it, projectors following it, and the old generation's removal.
import { Effect, Exit, Layer, ManagedRuntime, References, Scope } from "effect"
import { Redis } from "effect/persistence/Redis"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { useRedis } from "@bank/test-kit"
import * as Keys from "./Keys.ts"
import * as ReadModel from "./ReadModel.ts"
import * as RedisClient from "./RedisClient.ts"

const redisServer = useRedis()
type Services = ReadModel.ReadModel | Redis | RedisClient.RedisTopology
/** Two runtimes stand for two processes, each with its own cache and subscriber. */
const processes: Array<ManagedRuntime.ManagedRuntime<Services, unknown>> = []
const start = (maxAgeMs: number) => {
  const runtime = ManagedRuntime.make(
    ReadModel.layer({ maxAgeMs }).pipe(
      Layer.provideMerge(RedisClient.layer(redisServer.server.url)),
      Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
    )
  )
  processes.push(runtime)
  return <A, E>(effect: Effect.Effect<A, E, Services | Scope.Scope>) =>
    runtime.runPromise(Effect.scoped(effect).pipe(Effect.provideService(References.MinimumLogLevel, "Error")))
}
let a: ReturnType<typeof start>
let b: ReturnType<typeof start>
beforeAll(() => {
  a = start(60_000)
  b = start(60_000)
})
afterAll(async () => {
  for (const runtime of processes) await runtime.dispose()
})

const send = <A>(...command: [string, ...Array<string>]) => a(Redis.use((r) => r.send<A>(...command)))
let modelNo = 0
const freshModel = () => `model${++modelNo}`

describe("read-model generations", () => {
  it("starts at generation 1 with today's keys, and moves every process to a new one at once", async () => {
    const name = freshModel()
    expect(await a(ReadModel.ReadModel.use((r) => r.documentKey(name, "7")))).toBe(Keys.customer("7").document(name))
    expect(await b(ReadModel.ReadModel.use((r) => r.current(name)))).toBe(1)
    // Both cached generation 1 for a minute: only the notice can move them, so both subscribers
    // must be on the channel first (a process's subscriber connects in the background; until it
    // is there, maxAgeMs bounds what a reader misses).
    await vi.waitFor(
      async () =>
        expect((await send<[string, number]>("PUBSUB", "NUMSUB", ReadModel.channel))[1]).toBeGreaterThanOrEqual(2),
      { timeout: 10_000, interval: 20 }
    )
    await a(ReadModel.switchGeneration(name, 1, 2))
    await vi.waitFor(
      async () => {
        expect(await a(ReadModel.ReadModel.use((r) => r.current(name)))).toBe(2)
        expect(await b(ReadModel.ReadModel.use((r) => r.documentKey(name, "7")))).toBe(`{c:7}:doc:${name}:g2`)
      },
      { timeout: 1000, interval: 20 }
    )
  })

  it("refuses a switch from a generation the pointer no longer holds, and changes nothing", async () => {
    const name = freshModel()
    await a(ReadModel.switchGeneration(name, 1, 2))
    const refused = await a(Effect.flip(ReadModel.switchGeneration(name, 1, 3)))
    expect(refused).toMatchObject({ _tag: "ReadModelError", reason: "Conflict" })
    expect(await a(ReadModel.generation(name))).toBe(2)
  })

  it("reaches a reader within maxAgeMs even when the notice is lost", async () => {
    const name = freshModel()
    const quick = start(300)
    expect(await quick(ReadModel.ReadModel.use((r) => r.current(name)))).toBe(1)
    // A pointer moved without a notice, as if the subscriber had been disconnected.
    await send("SET", ReadModel.pointerKey(name), "5")
    const movedAt = Date.now()
    await vi.waitFor(async () => expect(await quick(ReadModel.ReadModel.use((r) => r.current(name)))).toBe(5), {
      timeout: 2000,
      interval: 20
    })
    expect(Date.now() - movedAt).toBeLessThan(1000)
  })

  it("makes a following projector stop the old generation and start the new one", async () => {
    const name = freshModel()
    const events: Array<string> = []
    const projector = (generation: number) =>
      Effect.gen(function* () {
        events.push(`start ${generation}`)
        yield* Effect.addFinalizer(() => Effect.sync(() => events.push(`stop ${generation}`)))
      })
    const scope = await Effect.runPromise(Scope.make())
    const follower = processes[0]!
    await follower.runPromise(
      ReadModel.follow(name, projector).pipe(
        Scope.provide(scope),
        Effect.provideService(References.MinimumLogLevel, "Error")
      )
    )
    expect(events).toEqual(["start 1"])
    await a(ReadModel.switchGeneration(name, 1, 2))
    await vi.waitFor(() => expect(events).toEqual(["start 1", "stop 1", "start 2"]), { timeout: 1000, interval: 20 })
    await Effect.runPromise(Scope.close(scope, Exit.void))
    expect(events).toEqual(["start 1", "stop 1", "start 2", "stop 2"])
  })

  it("drops one generation's documents and groups, and nothing of another generation or read model", async () => {
    const name = freshModel()
    const customers = Array.from({ length: 2500 }, (_, i) => String(i + 1))
    const stream = `${name}.source`
    for (let i = 0; i < customers.length; i += 500) {
      const slice = customers.slice(i, i + 500)
      await send(
        "MSET",
        ...(slice.flatMap((id) => [
          ReadModel.documentKey(name, 1, id),
          "{}",
          ReadModel.documentKey(name, 2, id),
          "{}"
        ]) as [string, ...Array<string>])
      )
    }
    await send("SET", Keys.customer("1").document(`${name}x`), "{}")
    await send("SET", ReadModel.documentKey(name, 12, "1"), "{}")
    await send("XGROUP", "CREATE", Keys.stream(stream), name, "0", "MKSTREAM")
    await send("XGROUP", "CREATE", Keys.stream(stream), ReadModel.groupOf(name, 2), "0")
    const dropped = await a(
      ReadModel.dropGeneration({ name, generation: 1, groups: [{ stream, group: name }], batch: 300 })
    )
    expect(dropped).toEqual({ documents: customers.length, groups: 1 })
    expect(
      await send<number>("EXISTS", ReadModel.documentKey(name, 1, "1"), ReadModel.documentKey(name, 1, "2500"))
    ).toBe(0)
    expect(
      await send<number>("EXISTS", ReadModel.documentKey(name, 2, "1"), ReadModel.documentKey(name, 2, "2500"))
    ).toBe(2)
    expect(
      await send<number>("EXISTS", Keys.customer("1").document(`${name}x`), ReadModel.documentKey(name, 12, "1"))
    ).toBe(2)
    const groups = await send<Array<Array<unknown>>>("XINFO", "GROUPS", Keys.stream(stream))
    expect(groups.map((g) => g[1])).toEqual([ReadModel.groupOf(name, 2)])
  })

  it("lets one rebuild of a read model run at a time", async () => {
    const name = freshModel()
    const scope = await Effect.runPromise(Scope.make())
    await processes[0]!.runPromise(ReadModel.holdRebuildLease(name, "first", 2000).pipe(Scope.provide(scope)))
    const busy = await b(Effect.flip(ReadModel.holdRebuildLease(name, "second", 2000)))
    expect(busy).toMatchObject({ reason: "Busy" })
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await b(ReadModel.holdRebuildLease(name, "second", 2000))
  })
})
