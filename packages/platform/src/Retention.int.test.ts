// Retention against a real Redis: a stream is trimmed only below what every group still needs,
// and a group forced past the cap is reported, marked and makes its read model stale.
import { Effect, Layer } from "effect"
import { createClient } from "redis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "@bank/test-kit"
import * as Keys from "./Keys.ts"
import * as Readiness from "./Readiness.ts"
import * as Retention from "./Retention.ts"
import { runWith } from "./testing/TestStreams.ts"

const redisServer = useRedis()
let client: ReturnType<typeof createClient>
beforeAll(async () => {
  client = createClient({ url: redisServer.server.url })
  await client.connect()
})
afterAll(async () => {
  await client?.close()
})

let n = 0
const fill = async (count: number) => {
  const name = `test.retention.${++n}`
  const ids: Array<string> = []
  for (let i = 0; i < count; i++) ids.push(await client.xAdd(Keys.stream(name), "*", { i: String(i) }))
  return { name, key: Keys.stream(name), ids }
}
const read = (key: string, group: string, count: number) =>
  client.sendCommand(["XREADGROUP", "GROUP", group, "c", "COUNT", String(count), "STREAMS", key, ">"]) as Promise<
    Array<[string, Array<[string, unknown]>]>
  >
const trim = (stream: string, maxLen: number) =>
  runWith(redisServer.server.url, Retention.trim({ stream, maxLen, keepMs: 0 }))
const first = async (key: string) =>
  ((await client.sendCommand(["XRANGE", key, "-", "+", "COUNT", "1"])) as Array<[string]>)[0]?.[0]

describe("retention", () => {
  it("trims only below the oldest entry some group still needs: its oldest pending, else what it has not read", async () => {
    const { name, key, ids } = await fill(300)
    await client.sendCommand(["XGROUP", "CREATE", key, "done", "0"])
    await client.sendCommand(["XGROUP", "CREATE", key, "slow", "0"])
    const all = await read(key, "done", 300)
    await client.sendCommand(["XACK", key, "done", ...all[0]![1].map(([id]) => id)])
    // `slow` read 200, acknowledged all but entry 150: that one and everything after must stay.
    const some = await read(key, "slow", 200)
    await client.sendCommand(["XACK", key, "slow", ...some[0]![1].map(([id]) => id).filter((id) => id !== ids[150])])
    const result = await trim(name, 10_000)
    expect(result.capped).toEqual([])
    expect(await client.xRange(key, ids[150]!, ids[150]!)).toHaveLength(1)
    expect(result.length).toBeGreaterThanOrEqual(150)
    // Once `slow` is done, its entries may go too (MINID ~ trims whole nodes: at most one node stays).
    await client.sendCommand(["XACK", key, "slow", ids[150]!])
    await read(key, "slow", 100).then((r) => client.sendCommand(["XACK", key, "slow", ...r[0]![1].map(([id]) => id)]))
    expect((await trim(name, 10_000)).length).toBeLessThan(150)
  })

  it("reports a group forced past the cap, marks it, and its read model turns stale", async () => {
    const { name, key } = await fill(500)
    await client.sendCommand(["XGROUP", "CREATE", key, "reader", "0"])
    await client.sendCommand(["XGROUP", "CREATE", key, "asleep", "0"])
    const all = await read(key, "reader", 500)
    await client.sendCommand(["XACK", key, "reader", ...all[0]![1].map(([id]) => id)])
    const result = await trim(name, 100)
    expect(result.capped).toEqual(["asleep"])
    expect(result.length).toBe(100)
    expect(await first(key)).toBeDefined()
    expect(await client.exists(Retention.lostKey(name, "asleep"))).toBe(1)
    expect(await client.exists(Retention.lostKey(name, "reader"))).toBe(0)
    const readiness = await runWith(
      redisServer.server.url,
      Effect.gen(function* () {
        const r = yield* Readiness.Readiness
        return yield* r.check
      }).pipe(
        Effect.provide(
          Readiness.layer({
            readModels: [
              { name: "sleepy", groups: Effect.succeed([{ stream: name, group: "asleep" }]), fedByCdc: false },
              { name: "awake", groups: Effect.succeed([{ stream: name, group: "reader" }]), fedByCdc: false }
            ]
          }).pipe(Layer.orDie)
        )
      )
    )
    expect(readiness.readModels["sleepy"]?.status).toBe("stale")
    expect(readiness.readModels["awake"]?.status).toBe("ready")
    expect(Retention.capTrimCounts().get(name)).toBe(1)
  })
})
