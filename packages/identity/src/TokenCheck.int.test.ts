// The token check against a real Redis, directly and through the RESP3 client-side cache: a
// cached token must be refused as soon as its record is deleted (revocation) or expires, on
// the synchronous path (`cachedPrincipal`) as on `resolve`.
import { RedisClient } from "@bank/platform"
import { Effect, Exit, Layer, References } from "effect"
import { createClient } from "redis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "@bank/test-kit"
import * as IdentityConfig from "./IdentityConfig.ts"
import * as Secrets from "./Secrets.ts"
import * as TokenCheckModule from "./TokenCheck.ts"
import { TokenCheck } from "./TokenCheck.ts"
import * as TokenStore from "./TokenStore.ts"

const server = useRedis()
let client: ReturnType<typeof createClient>
beforeAll(async () => {
  client = createClient({ url: server.server.url })
  await client.connect()
})
afterAll(() => client?.close())

const withCheck = <A, E>(tokenCache: boolean, body: (check: TokenCheck["Service"]) => Effect.Effect<A, E, any>) =>
  Effect.runPromise(
    Effect.gen(function* () {
      return yield* body(yield* TokenCheck)
    }).pipe(
      Effect.provide(
        TokenCheckModule.layer.pipe(
          Layer.provide(IdentityConfig.layer(IdentityConfig.make({ tokenCache }))),
          Layer.provideMerge(RedisClient.layer(server.server.url))
        )
      ),
      Effect.provideService(References.MinimumLogLevel, "Warn")
    ) as Effect.Effect<A, E, never>
  )

const issue = (ttlMs = 60_000) =>
  Effect.gen(function* () {
    const token = Secrets.newToken()
    yield* TokenStore.putAccess(
      Secrets.hashToken(token),
      { customerId: "7", sessionId: "s-1", roles: ["customer"] },
      ttlMs
    )
    return { token, header: `Bearer ${token}` }
  })

for (const tokenCache of [false, true]) {
  describe(`TokenCheck (${tokenCache ? "client-side cache" : "direct"})`, () => {
    it("resolves a live token and refuses it at once when revoked", () =>
      withCheck(tokenCache, (check) =>
        Effect.gen(function* () {
          expect(check.cached).toBe(tokenCache)
          const { token, header } = yield* issue()
          for (let i = 0; i < 3; i++)
            expect(yield* check.resolve(header)).toEqual({ customerId: "7", sessionId: "s-1", roles: ["customer"] })
          // The cached token answers synchronously, without a round trip (the edge's fast path).
          expect(check.cachedPrincipal(header)).toEqual(
            tokenCache ? { customerId: "7", sessionId: "s-1", roles: ["customer"] } : undefined
          )
          yield* Effect.promise(() => client.del(`identity:access:${Secrets.hashToken(token)}`))
          // The cache learns of the deletion by a push on its own connection, which may be read a
          // moment after the DEL's reply on ours (in production the edge hears of a logout only
          // after several more round trips): allow that moment, no more.
          const started = Date.now()
          while (Exit.isSuccess(yield* Effect.exit(check.resolve(header)))) {
            expect(Date.now() - started).toBeLessThan(100)
            yield* Effect.yieldNow
          }
          expect(check.cachedPrincipal(header)).toBeUndefined()
        })
      ))

    it("refuses a token whose record expired", () =>
      withCheck(tokenCache, (check) =>
        Effect.gen(function* () {
          const expiresAt = Date.now() + 300
          const { header } = yield* issue(300)
          expect((yield* check.resolve(header)).customerId).toBe("7")
          // Refused from the expiry on, even while a cache could still hold the record.
          yield* Effect.sleep(Math.max(0, expiresAt - Date.now()) + 5)
          expect(JSON.stringify(yield* Effect.exit(check.resolve(header)))).toContain("InvalidToken")
          expect(check.cachedPrincipal(header)).toBeUndefined()
        })
      ))
  })
}
