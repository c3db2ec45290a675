// The platform on a real private Redis Cluster (3 masters, 3 replicas): commands, scripts and
// the document store's function library reach the master of their slot, keyspace walks see every master, scripts with keys of two
// slots are refused, readiness reports the cluster's state, and an actor's blocking read
// follows its stream to the promoted replica after its master is SIGKILLed, losing nothing
// that a replica had acknowledged.
import { Effect, Exit, Layer, Scope } from "effect"
import { Redis, script } from "effect/persistence/Redis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startRedisCluster, type LocalRedisCluster } from "@bank/test-kit"
import * as Actor from "./Actor.ts"
import * as DocumentStore from "./DocumentStore.ts"
import * as Keys from "./Keys.ts"
import { leaseScript } from "./Lease.ts"
import { RedisTopology, scanKeys } from "./RedisTopology.ts"
import { slotOf } from "./Slots.ts"
import { StreamLog } from "./StreamLog.ts"
import { counted, layer } from "./testing/TestStreams.ts"

let cluster: LocalRedisCluster
let scope: Scope.Closeable
let run: <A, E>(effect: Effect.Effect<A, E, Redis | RedisTopology | StreamLog | Scope.Scope>) => Promise<A>

beforeAll(async () => {
  cluster = await startRedisCluster()
  scope = await Effect.runPromise(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(layer(cluster.url), scope))
  run = (effect) =>
    Effect.runPromise(
      effect.pipe(Effect.provideContext(context), Effect.provideService(Scope.Scope, scope)) as Effect.Effect<
        any,
        any,
        never
      >
    )
}, 60_000)

afterAll(async () => {
  if (scope) await Effect.runPromise(Scope.close(scope, Exit.void))
  await cluster?.stop()
})

const withRedis = <A, E>(f: (redis: Redis["Service"]) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    return yield* f(yield* Redis)
  })
const withTopology = <A, E>(f: (topology: RedisTopology["Service"]) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    return yield* f(yield* RedisTopology)
  })

const waitUntil = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe("Redis Cluster", () => {
  it("runs each customer's scripts on the master of its slot and walks every master's keys", async () => {
    const customers = Array.from({ length: 60 }, (_, i) => `walk-${i}`)
    expect(new Set(customers.map((c) => slotOf(Keys.customer(c).key("lease")))).size).toBeGreaterThan(30)
    const held = await run(
      Effect.forEach(customers, (c) =>
        withRedis((r) => r.eval(leaseScript)(Keys.customer(c).key("lease"), "me", 60_000))
      )
    )
    expect(held.every((h) => h === 1)).toBe(true)

    const found: Array<string> = []
    await run(scanKeys("{c:walk-*}:lease", (keys) => Effect.sync(() => void found.push(...keys))))
    expect(found.sort()).toEqual(customers.map((c) => Keys.customer(c).key("lease")).sort())
    const masters = await run(withTopology((t) => t.masters))
    expect(masters).toHaveLength(3)

    // A walk on the shared client would see one node only: refused, loudly.
    const scan = await run(Effect.flip(withRedis((r) => r.send("SCAN", "0"))))
    expect(String(scan.cause)).toContain("RedisTopology.scanKeys")
  })

  it("calls the document store's function library on every master, loading it again where it is gone", async () => {
    const customers = Array.from({ length: 30 }, (_, i) => `fn-${i}`)
    const applyAll = (n: number) =>
      Effect.gen(function* () {
        const store = yield* DocumentStore.make({ backend: "lua" })
        return yield* Effect.forEach(customers, (c) =>
          store.apply(Keys.customer(c).document("test"), [
            DocumentStore.Op.incr("$.n", 1),
            DocumentStore.Op.set("$.at", n)
          ])
        )
      })
    expect((await run(applyAll(1))).every((r) => r._tag === "Applied")).toBe(true)
    const masters = await run(withTopology((t) => t.masters))
    for (const m of masters) {
      expect(JSON.stringify(await run(m.send("FUNCTION", "LIST")))).toMatch(/docstore_[0-9a-f]{12}/)
    }
    // Every master loses its functions (restarted without persistence): the next calls load them again.
    for (const m of masters) await run(m.send("FUNCTION", "FLUSH"))
    const again = await run(applyAll(2))
    expect(again.map((r) => (r._tag === "Applied" ? r.results[0] : r._tag))).toEqual(customers.map(() => "2"))
  })

  it("refuses a script handed keys of two slots before it runs", async () => {
    const twoSlots = script2()
    const error = await run(
      Effect.flip(withRedis((r) => r.eval(twoSlots)(Keys.customer("a").key("x"), Keys.customer("b").key("x"))))
    )
    expect(String(error.cause)).toContain("more than one hash slot")
  })

  it("keeps a transaction in one slot and waits for a replica of it", async () => {
    const key = Keys.stream("test.tx")
    const acked = await run(
      Effect.gen(function* () {
        const topology = yield* RedisTopology
        yield* topology.transaction(key, [
          ["XADD", key, "*", "a", "1"],
          ["XADD", key, "*", "a", "2"]
        ])
        return yield* topology.waitForReplicas(key, 1, 2000)
      })
    )
    expect(acked).toBe(1)
    const crossSlot = await run(Effect.flip(withTopology((t) => t.transaction(key, [["SET", "elsewhere", "1"]]))))
    expect(String(crossSlot.cause)).toContain("more than one hash slot")
  })

  it("reports cluster_state and every slot covered when healthy", async () => {
    const health = await run(withTopology((t) => t.health))
    expect(health).toMatchObject({ topology: "cluster", ok: true, state: "ok", slotsCovered: 16384, masters: 3 })
  })

  it("moves an actor's blocking read to the promoted replica after its master is SIGKILLed, losing no replicated entry", async () => {
    const spec = counted("test.cluster.failover")
    const streamKey = Keys.stream(spec.name)
    const seen = new Map<number, number>()
    await run(
      Actor.run({
        group: "failover",
        stream: spec,
        blockMs: 500,
        claimIdleMs: 2000,
        handle: (message) =>
          Effect.sync(() => void seen.set(message.payload.seq, (seen.get(message.payload.seq) ?? 0) + 1))
      })
    )
    // Every entry counted as written was acknowledged by a replica (WAIT 1), so it must survive.
    const written: Array<number> = []
    const publish = (seq: number) =>
      Effect.gen(function* () {
        const log = yield* StreamLog
        const topology = yield* RedisTopology
        yield* log.publish(spec, { key: `k${seq % 5}`, payload: { _tag: "Counted", seq } })
        if ((yield* topology.waitForReplicas(streamKey, 1, 200)) >= 1) written.push(seq)
      })
    for (let seq = 0; seq < 100; seq++) await run(publish(seq))
    await waitUntil("the first 100 entries handled", () => seen.size >= 100)

    const master = await cluster.masterOf(streamKey)
    const killedAt = Date.now()
    await master.kill()
    let firstAfter: number | undefined
    for (let seq = 100; seq < 200; seq++) {
      // Appends fail while the slot has no master; retry each until it is taken.
      await waitUntil(`entry ${seq} appended`, async () =>
        Exit.isSuccess(
          await Effect.runPromiseExit(Effect.promise(() => run(Effect.exit(publish(seq)))).pipe(Effect.flatten))
        )
      )
      if (firstAfter === undefined) {
        firstAfter = Date.now()
        // The promoted replica has no replica of its own until the old master is back (as one).
        await master.restart()
      }
    }
    await waitUntil("every replicated entry handled after the failover", () => written.every((seq) => seen.has(seq)))
    console.log(
      `actor failover: first append ${firstAfter! - killedAt} ms after the kill; ${written.length} replicated entries, ${[...seen.values()].filter((n) => n > 1).length} handled twice`
    )
    expect(written.filter((seq) => !seen.has(seq))).toEqual([])

    expect(written.some((seq) => seq >= 100)).toBe(true)
    // The old master came back as a replica of the one that took over.
    await waitUntil("the old master rejoined as a replica", async () => (await master.role()) === "replica")
    await cluster.waitHealthy()
  }, 120_000)
})

const script2 = () =>
  script((a: string, b: string) => [a, b], { lua: "return redis.call('GET', KEYS[1])", numberOfKeys: 2 })
