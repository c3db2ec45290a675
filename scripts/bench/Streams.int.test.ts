// The benchmark's view of the actors, on a private Redis: a consumer group with entries to read
// is behind, one that read and acknowledged everything is caught up, and the apply rate counts
// what the group read while it had a backlog.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "@bank/test-kit"
import { applyRates, caughtUp, connect, sample, waitCaughtUp, type RedisConnection, type Sample } from "./Streams.ts"

const server = useRedis()
let redis: RedisConnection
const stream = "stream:{s:bench.test}"

beforeAll(async () => {
  redis = await connect(server.server.url)
})
afterAll(async () => {
  await redis.close()
})

const read = async (count: number) => {
  const reply = (await redis.sendCommand([
    "XREADGROUP",
    "GROUP",
    "projector",
    "c1",
    "COUNT",
    String(count),
    "STREAMS",
    stream,
    ">"
  ])) as Array<[string, Array<[string, Array<string>]>]>
  return reply[0]![1].map(([id]) => id)
}

describe("Streams", () => {
  it("sees a group behind until it has read and acknowledged every entry", async () => {
    for (let i = 0; i < 50; i++) await redis.sendCommand(["XADD", stream, "*", "data", String(i)])
    await redis.sendCommand(["XGROUP", "CREATE", stream, "projector", "0"])
    const samples: Array<Sample> = [await sample(redis)]
    expect(samples[0]!.groups).toEqual([{ stream, group: "projector", entriesRead: 0, lag: 50, pending: 0 }])
    expect(caughtUp(samples[0]!)).toBe(false)

    const ids = await read(30)
    samples.push(await sample(redis))
    // Read but not acknowledged: still behind.
    expect(samples[1]!.groups[0]).toMatchObject({ entriesRead: 30, lag: 20, pending: 30 })
    expect(caughtUp(samples[1]!)).toBe(false)

    await redis.sendCommand(["XACK", stream, "projector", ...ids, ...(await read(100))])
    samples.push(...(await waitCaughtUp(redis, { timeoutMs: 5_000, everyMs: 10 })))
    expect(caughtUp(samples.at(-1)!)).toBe(true)

    const [rate] = applyRates(samples)
    expect(rate).toMatchObject({ group: "projector", streams: [stream], entries: 50, peakLag: 50 })
    expect(rate!.perSecond).toBeGreaterThan(0)
  })
})
