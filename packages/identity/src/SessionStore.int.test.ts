// The session and credentials scripts against a real Redis: what expiry, the cap, revocation
// and CDC redeliveries do to the stored state.
import type { Cdc } from "@bank/contracts"
import { DocumentStore, ReadModel, RedisClient, uuidv7 } from "@bank/platform"
import * as IdentityKeys from "./IdentityKeys.ts"
import { Effect, Layer, References } from "effect"
import { createClient } from "redis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "@bank/test-kit"
import * as Credentials from "./Credentials.ts"
import * as CredentialsProjection from "./CredentialsProjection.ts"
import * as SessionStore from "./SessionStore.ts"
import * as TokenStore from "./TokenStore.ts"

const server = useRedis()
let client: ReturnType<typeof createClient>
beforeAll(async () => {
  client = createClient({ url: server.server.url })
  await client.connect()
})
afterAll(() => client?.close())

const run = <A, E>(effect: Effect.Effect<A, E, any>): Promise<A> =>
  Effect.runPromise(
    effect.pipe(
      Effect.provide(DocumentStore.layer.pipe(Layer.provideMerge(RedisClient.layer(server.server.url)))),
      Effect.provideService(References.MinimumLogLevel, "Warn")
    ) as Effect.Effect<A, E, never>
  )

let customerNo = 0
const hash = () => Buffer.from(uuidv7()).toString("base64url").slice(0, 43).padEnd(43, "x")
const openSession = async (
  customerId: string,
  now: number,
  options: { idle?: number; lifetime?: number; cap?: number; policy?: "evict-oldest" | "refuse" } = {}
) => {
  const sessionId = uuidv7()
  const absolute = now + (options.lifetime ?? 60_000)
  const deadline = Math.min(now + (options.idle ?? 10_000), absolute)
  const tokens = { access: hash(), refresh: hash() }
  const result = await run(
    Effect.gen(function* () {
      const opened = yield* SessionStore.open({
        customerId,
        sessionId,
        now,
        deadline,
        absolute,
        accessHash: tokens.access,
        refreshHash: tokens.refresh,
        cap: options.cap ?? 5,
        policy: options.policy ?? "evict-oldest"
      })
      if (opened.opened) {
        yield* TokenStore.putAccess(tokens.access, { customerId, sessionId, roles: ["customer"] }, 60_000)
        yield* SessionStore.writeDocument({ sessionId, customerId } as SessionStore.SessionDocument, deadline)
      }
      return opened
    })
  )
  return { sessionId, tokens, ...result }
}

describe("SessionStore", () => {
  it("slides the idle expiry with activity, never past the absolute lifetime", async () => {
    const customerId = String(++customerNo)
    const t0 = Date.now()
    const { sessionId } = await openSession(customerId, t0, { idle: 1_000, lifetime: 2_500 })
    expect(await run(SessionStore.touch(customerId, sessionId, t0 + 900, 1_000))).toBe(t0 + 1_900)
    expect(await run(SessionStore.touch(customerId, sessionId, t0 + 1_800, 1_000))).toBe(t0 + 2_500)
    // Past the absolute deadline the session is over, whatever the activity.
    expect(await run(SessionStore.touch(customerId, sessionId, t0 + 2_600, 1_000))).toBe(0)
    expect(await run(SessionStore.list(customerId, t0 + 2_600))).toEqual([])
    expect(await client.exists(SessionStore.keys(customerId).document(sessionId))).toBe(0)
  })

  it("does not let a late event revive an ended session's document", async () => {
    const customerId = String(++customerNo)
    const { sessionId } = await openSession(customerId, Date.now())
    expect(await run(SessionStore.end(customerId, sessionId))).toBe(true)
    const key = SessionStore.keys(customerId).document(sessionId)
    await client.set(key, '{"lastSeenAt":"late"}') // what an unguarded write would leave
    expect(await run(SessionStore.touch(customerId, sessionId, Date.now(), 10_000))).toBe(0)
    expect(await client.exists(key)).toBe(0)
    expect(await run(SessionStore.end(customerId, sessionId))).toBe(false)
  })

  it("ends a session with its tokens", async () => {
    const customerId = String(++customerNo)
    const { sessionId, tokens } = await openSession(customerId, Date.now())
    expect(await client.exists(IdentityKeys.accessToken(tokens.access))).toBe(1)
    await run(SessionStore.end(customerId, sessionId, "logout"))
    expect(await client.exists(IdentityKeys.refreshToken(tokens.refresh))).toBe(0)
    // Only a tombstone saying why is left of the access token: it no longer names anyone.
    expect(await client.hGetAll(IdentityKeys.accessToken(tokens.access))).toEqual({ e: "logout" })
    expect(await client.pTTL(IdentityKeys.accessToken(tokens.access))).toBeLessThanOrEqual(TokenStore.TOMBSTONE_MS)
  })

  it("refuses a session beyond the cap under the refuse policy, changing nothing", async () => {
    const customerId = String(++customerNo)
    const now = Date.now()
    const first = await openSession(customerId, now, { cap: 2, policy: "refuse" })
    const second = await openSession(customerId, now + 1, { cap: 2, policy: "refuse" })
    const third = await openSession(customerId, now + 2, { cap: 2, policy: "refuse" })
    expect(third.opened).toBe(false)
    expect((await run(SessionStore.list(customerId, now + 3))).map((s) => s.sessionId)).toEqual([
      first.sessionId,
      second.sessionId
    ])
    expect(await client.exists(IdentityKeys.accessToken(first.tokens.access))).toBe(1)
  })

  it("counts only live sessions against the cap: an expired one makes room and loses its tokens", async () => {
    const customerId = String(++customerNo)
    const now = Date.now()
    const old = await openSession(customerId, now - 5_000, { idle: 1_000, cap: 1, policy: "refuse" })
    const fresh = await openSession(customerId, now, { cap: 1, policy: "refuse" })
    expect(fresh.opened).toBe(true)
    expect(fresh.removed).toEqual([{ sessionId: old.sessionId, state: expect.anything(), why: "expired" }])
    expect(await client.hGetAll(IdentityKeys.accessToken(old.tokens.access))).toEqual({ e: "session-expired" })
  })
})

describe("the credentials projection in Redis", () => {
  const change = (op: Cdc.RowChanged["op"], lsn: string, values: Cdc.Row, table = "credentials"): Cdc.RowChanged => ({
    _tag: "RowChanged",
    schema: "customer",
    table,
    op,
    key: { customer_id: "900" },
    ...(op === "delete" ? { old: values } : { new: values }),
    commitLsn: lsn,
    seq: 0,
    commitTime: "",
    xid: 1
  })
  const login = (username: string) => run(Credentials.lookup(username))

  it("drops redelivered older changes, follows a rename and stays deleted", async () => {
    const hash = "scrypt$N=1024,r=8,p=1$c2FsdA==$aGFzaA=="
    await run(
      CredentialsProjection.apply(change("insert", "0/10", { username: "zoe", password_hash: hash, status: "active" }))
    )
    await run(
      CredentialsProjection.apply(
        change("update", "0/20", { username: "zoe.b", password_hash: hash, status: "active" })
      )
    )
    // The insert again (at-least-once): older than what was applied, so dropped.
    await run(
      CredentialsProjection.apply(change("insert", "0/10", { username: "zoe", password_hash: hash, status: "active" }))
    )
    expect((await login("zoe"))._tag).toBe("None")
    expect(await login("zoe.b")).toMatchObject({ value: { customerId: "900", username: "zoe.b", status: "active" } })

    await run(CredentialsProjection.apply(change("delete", "0/30", { customer_id: "900" }, "customers")))
    await run(
      CredentialsProjection.apply(
        change("update", "0/20", { username: "zoe.b", password_hash: hash, status: "active" })
      )
    )
    expect((await login("zoe.b"))._tag).toBe("None")
    expect(await client.get(IdentityKeys.loginName("zoe.b"))).toBeNull()
  })

  it("builds a generation beside the one logins read, ends no session from it, and logins switch with the pointer", async () => {
    const hash = "scrypt$N=1024,r=8,p=1$c2FsdA==$aGFzaA=="
    const other = "scrypt$N=1024,r=8,p=1$c2FsdA==$b3RoZXI="
    const at = (id: string, lsn: string, values: Cdc.Row): Cdc.RowChanged => ({
      ...change("update", lsn, values),
      key: { customer_id: id }
    })
    const id = "901"
    await run(CredentialsProjection.apply(at(id, "0/10", { username: "yan", password_hash: hash, status: "active" })))
    const session = await openSession(id, Date.now())
    // Generation 2 gets a password change while it is built: it restates data, it ends nothing.
    const building = CredentialsProjection.projection
    await run(
      building.applySnapshot(2, "customer", [
        { ...at(id, "0/20", { username: "yan", password_hash: other, status: "active" }), op: "snapshot" }
      ])
    )
    await run(
      CredentialsProjection.apply(
        at(id, "0/30", { username: "yan", password_hash: hash, status: "active" }),
        undefined,
        {
          generation: 2,
          effects: false
        }
      )
    )
    expect(await client.zScore(SessionStore.keys(id).index, session.sessionId)).not.toBeNull()
    expect(await client.get(IdentityKeys.loginName("yan", 2))).toBe(id)
    // Logins read generation 1 until the pointer moves, then generation 2.
    expect(await login("yan")).toMatchObject({ value: { customerId: id } })
    await run(ReadModel.switchGeneration(Credentials.readModel, 1, 2))
    expect(await login("yan")).toMatchObject({ value: { customerId: id, passwordHash: hash } })
    // Generation 1's records and pointers go with its patterns.
    const dropped = await run(
      ReadModel.dropGeneration({ name: building.name, generation: 1, groups: [], patterns: building.patterns!(1) })
    )
    expect(dropped.documents).toBeGreaterThanOrEqual(2)
    expect(await client.exists(Credentials.recordKey(id, 1))).toBe(0)
    expect(await client.exists(IdentityKeys.loginName("yan", 1))).toBe(0)
    expect(await client.exists(Credentials.recordKey(id, 2))).toBe(1)
    await run(ReadModel.switchGeneration(Credentials.readModel, 2, 1))
  })
})
