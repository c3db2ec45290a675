import { spawn } from "node:child_process"
import { Effect, Exit, Layer, Scope, Stream } from "effect"
import { Redis } from "effect/persistence/Redis"
import { createClient } from "redis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "@bank/test-kit"
import * as Actor from "./Actor.ts"
import * as Idempotency from "./Idempotency.ts"
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

let streamNo = 0
const freshStream = () => counted(`test.actor.${++streamNo}`)

const publishAll = (spec: ReturnType<typeof counted>, count: number, keys: number, poisonAt?: number) =>
  Effect.gen(function* () {
    const log = yield* StreamLog
    for (let seq = 0; seq < count; seq++) {
      yield* log.publish(spec, {
        key: `k${seq % keys}`,
        payload: { _tag: "Counted", seq, ...(seq === poisonAt ? { poison: true } : {}) }
      })
    }
  })

const waitUntil = async (what: string, check: () => Promise<boolean>, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const pendingCount = async (spec: ReturnType<typeof counted>, group: string) => {
  const summary = (await client.sendCommand(["XPENDING", Keys.stream(spec.name), group])) as [number, ...Array<unknown>]
  return Number(summary[0])
}

/** Runs an actor in its own scope; returns a function that shuts it down gracefully. */
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

describe("Actor", () => {
  it("handles every message once, in order per key, and leaves nothing pending", async () => {
    const spec = freshStream()
    await runWith(redisServer.server.url, publishAll(spec, 300, 7))
    const seen = new Map<string, Array<number>>()
    const stop = await startActor({
      group: "orderly",
      stream: spec,
      concurrency: 4,
      batchSize: 40,
      handle: (m) =>
        Effect.sleep(Math.random() * 2).pipe(
          Effect.andThen(Effect.sync(() => seen.set(m.key, [...(seen.get(m.key) ?? []), m.payload.seq])))
        )
    })
    await waitUntil("all handled", async () => [...seen.values()].flat().length >= 300)
    await stop()
    for (const [key, seqs] of seen) {
      expect(seqs, `order of ${key}`).toEqual([...seqs].sort((a, b) => a - b))
    }
    expect(new Set([...seen.values()].flat()).size).toBe(300)
    expect([...seen.values()].flat().length).toBe(300)
    expect(await pendingCount(spec, "orderly")).toBe(0)
  })

  it("keeps per-key order when batches overlap (pipeline)", async () => {
    const spec = freshStream()
    await runWith(redisServer.server.url, publishAll(spec, 300, 7))
    const seen = new Map<string, Array<number>>()
    let running = 0
    let overlapped = false
    const stop = await startActor({
      group: "pipelined",
      stream: spec,
      concurrency: 4,
      batchSize: 10,
      pipeline: 3,
      handle: (m) =>
        Effect.sync(() => {
          running++
          if (running > 4) overlapped = true
        }).pipe(
          Effect.andThen(Effect.sleep(Math.random() * 3)),
          Effect.andThen(
            Effect.sync(() => {
              running--
              seen.set(m.key, [...(seen.get(m.key) ?? []), m.payload.seq])
            })
          )
        )
    })
    await waitUntil("all handled", async () => [...seen.values()].flat().length >= 300)
    await waitUntil("nothing pending", async () => (await pendingCount(spec, "pipelined")) === 0)
    await stop()
    for (const [key, seqs] of seen) expect(seqs, `order of ${key}`).toEqual([...seqs].sort((a, b) => a - b))
    expect([...seen.values()].flat().length).toBe(300)
    // More messages ran at once than one batch's concurrency allows: batches did overlap.
    expect(overlapped).toBe(true)
  })

  it("loses nothing when a consumer is killed mid-batch: another one claims and finishes its entries", async () => {
    const spec = freshStream()
    await runWith(redisServer.server.url, publishAll(spec, 200, 10))
    const child = spawn(process.execPath, ["--import", "tsx", "packages/platform/src/testing/crashingConsumer.ts"], {
      env: { ...process.env, REDIS_URL: redisServer.server.url, STREAM: spec.name, HANG_AT: "30" },
      stdio: "ignore"
    })
    await waitUntil("the doomed consumer to hang mid-batch", async () => (await client.lLen("hung")) > 0, 60_000)
    child.kill("SIGKILL")
    await new Promise((resolve) => child.once("exit", resolve))
    const handledBefore = (await client.lRange("handled", 0, -1)).map(Number)
    expect(handledBefore.length).toBeLessThan(200)
    expect(await pendingCount(spec, "workers")).toBeGreaterThan(0)

    const handledAfter: Array<number> = []
    const stop = await startActor({
      group: "workers",
      stream: spec,
      claimIdleMs: 300,
      handle: (m) => Effect.sync(() => handledAfter.push(m.payload.seq))
    })
    await waitUntil("every message handled", async () => new Set([...handledBefore, ...handledAfter]).size === 200)
    await waitUntil("nothing pending", async () => (await pendingCount(spec, "workers")) === 0)
    await stop()
    expect(handledAfter).toContain(30)
  }, 90_000)

  it("dead-letters a poison message after N deliveries with its error, and carries on", async () => {
    const spec = freshStream()
    await runWith(redisServer.server.url, publishAll(spec, 20, 2, 5))
    await client.xAdd(Keys.stream(spec.name), "*", { garbage: "not an envelope" })
    const handled: Array<number> = []
    let poisonAttempts = 0
    const stop = await startActor({
      group: "careful",
      stream: spec,
      maxDeliveries: 3,
      retryDelayMs: 5,
      handle: (m) =>
        m.payload.poison
          ? Effect.sync(() => poisonAttempts++).pipe(Effect.andThen(Effect.fail(new Error("cannot book this"))))
          : Effect.sync(() => handled.push(m.payload.seq))
    })
    await waitUntil("the rest handled", async () => handled.length === 19)
    await waitUntil("two dead letters", async () => (await client.xLen(Keys.deadLetter(spec.name))) === 2)
    await stop()
    const dead = await client.xRange(Keys.deadLetter(spec.name), "-", "+")
    const poison = dead.find((d) => d.message["type"] === "Counted")!
    expect(poison.message["dead.deliveries"]).toBe("3")
    expect(poison.message["dead.error"]).toContain("cannot book this")
    expect(poison.message["dead.group"]).toBe("careful")
    expect(JSON.parse(poison.message["data"]!).seq).toBe(5)
    expect(poisonAttempts).toBe(3)
    const garbage = dead.find((d) => d.message["garbage"] !== undefined)!
    expect(garbage.message["dead.error"]).toContain("MalformedEnvelope")
    expect(await pendingCount(spec, "careful")).toBe(0)
  })

  it("dead-letters without handling an entry that was already delivered N times (it kills its consumers)", async () => {
    const spec = freshStream()
    await runWith(redisServer.server.url, publishAll(spec, 1, 1))
    const key = Keys.stream(spec.name)
    await client.sendCommand(["XGROUP", "CREATE", key, "fragile", "0"])
    const read = (await client.sendCommand([
      "XREADGROUP",
      "GROUP",
      "fragile",
      "crashed",
      "COUNT",
      "1",
      "STREAMS",
      key,
      ">"
    ])) as Array<[string, Array<[string, Array<string>]>]>
    const id = read[0]![1][0]![0]
    await client.sendCommand(["XCLAIM", key, "fragile", "crashed", "0", id, "RETRYCOUNT", "4", "IDLE", "60000"])
    let handled = 0
    const stop = await startActor({
      group: "fragile",
      stream: spec,
      maxDeliveries: 4,
      claimIdleMs: 100,
      handle: () => Effect.sync(() => handled++)
    })
    await waitUntil("dead-lettered", async () => (await client.xLen(Keys.deadLetter(spec.name))) === 1)
    await stop()
    expect(handled).toBe(0)
    expect(await pendingCount(spec, "fragile")).toBe(0)
  })

  it("applies a redelivered message once when the handler is guarded", async () => {
    const spec = freshStream()
    await runWith(redisServer.server.url, publishAll(spec, 10, 3))
    let crashes = 0
    const stop = await startActor({
      group: "once",
      stream: spec,
      retryDelayMs: 5,
      handle: (m) =>
        Effect.gen(function* () {
          const redis = yield* Redis
          yield* Idempotency.once({ marker: Keys.once(Keys.customer(m.key).tag, "once", m.id), ttlSeconds: 3600 })(
            redis.send("HINCRBY", Keys.customer(m.key).key("applied"), String(m.payload.seq), "1")
          )
          // The process "dies" after the side effect and before the ack, once per message.
          if (m.deliveries === 1) {
            crashes++
            return yield* Effect.fail(new Error("crashed before ack"))
          }
        })
    })
    await waitUntil("all acknowledged", async () => crashes === 10 && (await pendingCount(spec, "once")) === 0)
    await stop()
    const counts = await Promise.all([0, 1, 2].map((k) => client.hGetAll(Keys.customer(`k${k}`).key("applied"))))
    const all = counts.flatMap((c) => Object.values(c))
    expect(all).toHaveLength(10)
    expect(all.every((n) => n === "1")).toBe(true)
  })

  it("on shutdown releases what it holds so another consumer takes it at once; nothing stays pending", async () => {
    const spec = freshStream()
    await runWith(redisServer.server.url, publishAll(spec, 60, 60))
    const first: Array<number> = []
    const stopFirst = await startActor({
      group: "handover",
      stream: spec,
      concurrency: 1,
      batchSize: 60,
      shutdownGraceMs: 100,
      handle: (m) => Effect.sleep(20).pipe(Effect.andThen(Effect.sync(() => first.push(m.payload.seq))))
    })
    await waitUntil("some handled", async () => first.length >= 3)
    await stopFirst()
    const handledByFirst = new Set(first)
    expect(handledByFirst.size).toBeLessThan(60)
    // Long claim idle time: only a proper release lets the second consumer take them now.
    const second: Array<number> = []
    const stopSecond = await startActor({
      group: "handover",
      stream: spec,
      claimIdleMs: 60_000,
      handle: (m) => Effect.sync(() => second.push(m.payload.seq))
    })
    await waitUntil("all handled", async () => new Set([...first, ...second]).size === 60, 15_000)
    await waitUntil("nothing pending", async () => (await pendingCount(spec, "handover")) === 0)
    await stopSecond()
  })

  it("replays a stream from a given id onward, in order, reporting undecodable entries", async () => {
    const spec = freshStream()
    await runWith(redisServer.server.url, publishAll(spec, 1200, 4))
    await client.xAdd(Keys.stream(spec.name), "*", { junk: "1" })
    const result = await runWith(
      redisServer.server.url,
      Effect.gen(function* () {
        const log = yield* StreamLog
        const all = yield* log.read(spec, { pageSize: 100 }).pipe((s) => Effect.promise(() => collect(s)))
        const from = (all[600] as { entryId: string }).entryId
        const tail = yield* log.read(spec, { from }).pipe((s) => Effect.promise(() => collect(s)))
        return { all, tail }
      })
    )
    expect(result.all).toHaveLength(1201)
    const seqs = result.all.slice(0, 1200).map((e) => ("payload" in e ? e.payload.seq : -1))
    expect(seqs).toEqual(Array.from({ length: 1200 }, (_, i) => i))
    expect(result.all[1200]).toMatchObject({ _tag: "EnvelopeDecodeError", reason: "MalformedEnvelope" })
    expect(result.tail).toHaveLength(601)
    expect(result.tail[0]).toEqual(result.all[600])
  })
})

const collect = <A, E>(stream: Stream.Stream<A, E>) => Effect.runPromise(Stream.runCollect(stream)).then((c) => [...c])

describe("Actor and Redis restarts", () => {
  it("keeps consuming after Redis restarts (a new connection, and the group made again)", async () => {
    const spec = freshStream()
    const handled: Array<number> = []
    const stop = await startActor({
      group: "survivor",
      stream: spec,
      blockMs: 200,
      handle: (m) => Effect.sync(() => handled.push(m.payload.seq))
    })
    await runWith(redisServer.server.url, publishAll(spec, 3, 1))
    await waitUntil("first messages", async () => handled.length === 3)
    await client.close()
    await redisServer.server.restart()
    client = createClient({ url: redisServer.server.url })
    await client.connect()
    await runWith(redisServer.server.url, publishAll(spec, 3, 1))
    await waitUntil("messages after the restart", async () => handled.length === 6, 30_000)
    await stop()
  }, 60_000)
})
