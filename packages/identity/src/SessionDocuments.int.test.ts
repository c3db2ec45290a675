// The session documents GET /v1/session serves, through the client-side cache, against a real
// Redis: what the session projector writes (or the identity actor deletes) on another connection
// is seen by the next read once Redis has told us (a moment, well under 100 ms), and at once after
// `forget` (a read with a Consistency-Token).
import { DocumentStore, RedisClient } from "@bank/platform"
import { useRedis } from "@bank/test-kit"
import { Effect, Layer, ManagedRuntime, References } from "effect"
import { Redis } from "effect/persistence/Redis"
import { afterEach, describe, expect, it, vi } from "vitest"
import { layer, SessionDocuments } from "./SessionDocuments.ts"
import * as SessionStore from "./SessionStore.ts"

const server = useRedis()
let runtime: ManagedRuntime.ManagedRuntime<SessionDocuments | Redis, unknown> | undefined
afterEach(() => runtime?.dispose())

const start = async (cache: boolean) => {
  runtime = ManagedRuntime.make(
    layer({ cache }).pipe(
      Layer.provideMerge(DocumentStore.layerBackend("lua")),
      Layer.provideMerge(RedisClient.layer(server.server.url)),
      Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
    )
  )
  const sessions = await runtime.runPromise(SessionDocuments.use(Effect.succeed))
  const other = (...command: [string, ...Array<string>]) =>
    runtime!.runPromise(Redis.use((redis) => redis.send(command[0], ...command.slice(1))))
  // As the route reads: synchronously when cached, else from Redis (and cached from then on).
  const read = async (key: string) => {
    const hit = sessions.peek(key)
    return hit !== undefined ? hit : runtime!.runPromise(sessions.read(key))
  }
  return { sessions, other, read }
}

const doc = (sessionId: string, theme: string) => JSON.stringify({ sessionId, preferences: { theme } })

describe("SessionDocuments", () => {
  it.each([true, false])(
    "serves what another connection writes or deletes by the next read (cache %s)",
    async (cache) => {
      const { sessions, other, read } = await start(cache)
      expect(sessions.cached).toBe(cache)
      const key = SessionStore.keys(cache ? "71" : "72").document("s1")
      expect(await read(key)).toBeNull()
      await other("SET", key, doc("s1", "light"))
      await vi.waitFor(async () => expect(await read(key)).toBe(doc("s1", "light")), { timeout: 100, interval: 1 })
      await read(key)
      expect(sessions.peek(key)).toBe(cache ? doc("s1", "light") : undefined)
      for (const theme of ["dark", "light", "dark"]) {
        await other("SET", key, doc("s1", theme))
        await vi.waitFor(async () => expect(await read(key)).toBe(doc("s1", theme)), { timeout: 100, interval: 1 })
      }
      // Logout, revocation, expiry: the document goes, and so does the cached one.
      await other("DEL", key)
      await vi.waitFor(async () => expect(await read(key)).toBeNull(), { timeout: 100, interval: 1 })
    }
  )

  it("forgets at once what a read with a Consistency-Token saw change", async () => {
    const { sessions, other, read } = await start(true)
    const key = SessionStore.keys("73").document("s1")
    await other("SET", key, doc("s1", "light"))
    await vi.waitFor(async () => expect(await read(key)).toBe(doc("s1", "light")), { timeout: 100, interval: 1 })
    await read(key)
    expect(sessions.peek(key)).toBe(doc("s1", "light"))
    await other("SET", key, doc("s1", "dark"))
    sessions.forget(key)
    expect(sessions.peek(key)).toBeUndefined()
    expect(await read(key)).toBe(doc("s1", "dark"))
  })
})
