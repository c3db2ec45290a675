// The partition-owned mode against a real Redis: every partition has exactly one owner among the
// live members, spread evenly, handed over when a member leaves; what a member left pending goes
// to the next owner; a group lost with Redis's data is made again.
import { Effect, Exit, Layer, Scope } from "effect"
import { createClient } from "redis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "@bank/test-kit"
import * as Keys from "./Keys.ts"
import * as Membership from "./Membership.ts"
import * as OwnedPartitions from "./OwnedPartitions.ts"
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

const waitUntil = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

let run = 0
type Seen = Array<{ member: string; stream: string; seq: number }>

/** A member of `group` on `streams` that records what it handles; `hold` keeps entries unacknowledged. */
const startMember = async (
  group: string,
  streams: ReadonlyArray<ReturnType<typeof counted>>,
  member: string,
  seen: Seen,
  hold?: (seq: number) => boolean
) => {
  const scope = await Effect.runPromise(Scope.make())
  const engine = await Effect.runPromise(
    Effect.gen(function* () {
      const context = yield* Layer.buildWithScope(layer(redisServer.server.url), scope)
      return yield* OwnedPartitions.run({
        group,
        streams,
        consumer: member,
        ownershipMs: 1000,
        rebalanceMs: 100,
        blockMs: 200,
        open: (spec) => ({
          handle: (entries) =>
            Effect.sync(() => {
              for (const e of entries) seen.push({ member, stream: spec.name, seq: e.payload.seq })
              return entries.filter((e) => !hold?.(e.payload.seq)).map((e) => e.entryId)
            })
        })
      }).pipe(Effect.provideContext(context), Effect.provideService(Scope.Scope, scope))
    })
  )
  return {
    status: () => Effect.runPromise(engine.status),
    stop: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const publish = (spec: ReturnType<typeof counted>, from: number, count: number) =>
  runWith(
    redisServer.server.url,
    StreamLog.use((log) =>
      Effect.forEach(
        Array.from({ length: count }, (_, i) => from + i),
        (seq) => log.publish(spec, { key: "k", payload: { _tag: "Counted", seq } }),
        { discard: true }
      )
    )
  )

describe("partition-owned consumers", () => {
  it("spreads partitions evenly, one owner each, and rebalances when a member leaves", async () => {
    const group = `owned${++run}`
    const streams = [0, 1, 2, 3].map((p) => counted(`test.owned.${run}.p${p}`))
    const seen: Seen = []
    const members = await Promise.all(["a", "b", "c"].map((m) => startMember(group, streams, m, seen)))
    const owned = async () => (await Promise.all(members.map((m) => m.status()))).map((s) => s.owned)
    // Settled: every member sees all three and owns exactly what the assignment gives it.
    const settled = async () => {
      const statuses = await Promise.all(members.map((m) => m.status()))
      return statuses.every(
        (s) =>
          s.members.length === 3 &&
          s.owned.join() ===
            Membership.assign(
              streams.map((x) => x.name),
              s.members,
              s.member
            ).join()
      )
    }
    await waitUntil("the assignment settled", settled)
    expect((await owned()).map((o) => o.length).sort()).toEqual([1, 1, 2])
    expect(new Set((await owned()).flat()).size).toBe(4)
    await Promise.all(streams.map((s) => publish(s, 0, 20)))
    await waitUntil("all handled", () => seen.length === 80)
    // Each partition was handled by one member, in order.
    for (const s of streams) {
      const mine = seen.filter((e) => e.stream === s.name)
      expect(new Set(mine.map((e) => e.member)).size).toBe(1)
      expect(mine.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i))
    }
    await members[0]!.stop()
    const rest = members.slice(1)
    await waitUntil("the leaver's partitions taken over", async () =>
      (await Promise.all(rest.map((m) => m.status()))).every(
        (s) =>
          s.members.length === 2 &&
          s.owned.join() ===
            Membership.assign(
              streams.map((x) => x.name),
              s.members,
              s.member
            ).join()
      )
    )
    expect((await Promise.all(rest.map((m) => m.status()))).map((s) => s.owned.length)).toEqual([2, 2])
    await Promise.all(streams.map((s) => publish(s, 20, 5)))
    await waitUntil("new entries handled by the two left", () => seen.length === 100)
    expect(seen.slice(80).every((e) => e.member !== "a")).toBe(true)
    await Promise.all(rest.map((m) => m.stop()))
    expect(await client.exists(Membership.membersKey(group))).toBe(0)
  })

  it("gives the next owner what the previous one left pending, first and in order", async () => {
    const group = `owned${++run}`
    const streams = [counted(`test.owned.${run}.p0`)]
    const seen: Seen = []
    // `first` acknowledges nothing past seq 2, like a transaction whose commit has not arrived.
    const first = await startMember(group, streams, "first", seen, (seq) => seq >= 3)
    await waitUntil("owned", async () => (await first.status()).owned.length === 1)
    await publish(streams[0]!, 0, 6)
    await waitUntil("first handled all", () => seen.length === 6)
    await first.stop()
    const second = await startMember(group, streams, "second", seen)
    await waitUntil("second took over", () => seen.filter((e) => e.member === "second").length === 3)
    expect(seen.filter((e) => e.member === "second").map((e) => e.seq)).toEqual([3, 4, 5])
    const [pending] = (await client.sendCommand(["XPENDING", Keys.stream(streams[0]!.name), group])) as [number]
    expect(Number(pending)).toBe(0)
    await second.stop()
  })

  it("makes its group again after Redis lost its data, and goes on", async () => {
    const group = `owned${++run}`
    const streams = [counted(`test.owned.${run}.p0`)]
    const seen: Seen = []
    const member = await startMember(group, streams, "m", seen)
    await publish(streams[0]!, 0, 3)
    await waitUntil("handled", () => seen.length === 3)
    await client.flushAll()
    await publish(streams[0]!, 3, 3)
    await waitUntil("handled after the flush", () => seen.some((e) => e.seq === 5), 30_000)
    expect(await client.exists(Keys.streamLease(streams[0]!.name, group))).toBe(1)
    await member.stop()
  }, 60_000)
})
