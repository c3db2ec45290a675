// Token records in Redis, each under the SHA-256 of its token (Redis never holds a token):
//   identity:access:<hash>   hash c (customer), s (session), r (roles, comma-separated),
//                            x (expiry, epoch ms), a (when the session last authenticated:
//                            login or step-up, epoch ms); expires with the token, so the check
//                            is one HGETALL. `x` lets a client-side cache refuse it on time
//                            even before Redis's expiry cycle deletes the key.
//   identity:refresh:<hash>  hash c, s, state ("active" until spent, then "rotated"); a rotated
//                            record is kept until it would have expired, so a replay of it is
//                            recognised as reuse and ends the session (the token family)
// A session has one live pair at a time; SessionStore.ts remembers which.
import * as IdentityKeys from "./IdentityKeys.ts"
import { Effect, Option } from "effect"
import { Redis } from "effect/persistence/Redis"
import type { Principal } from "@bank/contracts"
import * as Scripts from "./Scripts.ts"

export const putAccess = Effect.fn("TokenStore.putAccess")(function* (
  hash: string,
  principal: Principal,
  ttlMs: number
) {
  const redis = yield* Redis
  const ttl = Math.max(1, Math.floor(ttlMs))
  yield* redis.eval(Scripts.putToken)(IdentityKeys.accessToken(hash), ttl, [
    "c",
    principal.customerId,
    "s",
    principal.sessionId,
    "r",
    principal.roles.join(","),
    "x",
    String(Date.now() + ttl),
    ...(principal.authenticatedAt !== undefined ? ["a", String(principal.authenticatedAt)] : [])
  ])
})

export const putRefresh = Effect.fn("TokenStore.putRefresh")(function* (
  hash: string,
  owner: { readonly customerId: string; readonly sessionId: string },
  ttlMs: number
) {
  const redis = yield* Redis
  yield* redis.eval(Scripts.putToken)(IdentityKeys.refreshToken(hash), Math.max(1, Math.floor(ttlMs)), [
    "c",
    owner.customerId,
    "s",
    owner.sessionId,
    "state",
    "active"
  ])
})

/**
 * The principal of an access token record's fields (HGETALL reply, RESP2 list or RESP3 map),
 * if it is a whole record that has not expired at `now`.
 */
export const principalOf = (
  fields: ReadonlyArray<string> | Record<string, string> | null | undefined,
  now = Date.now()
): Option.Option<Principal> => {
  if (!fields) return Option.none()
  let c: string | undefined, s: string | undefined, r: string | undefined, x: string | undefined, a: string | undefined
  if (Array.isArray(fields)) {
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (fields[i] === "c") c = fields[i + 1]
      else if (fields[i] === "s") s = fields[i + 1]
      else if (fields[i] === "r") r = fields[i + 1]
      else if (fields[i] === "x") x = fields[i + 1]
      else if (fields[i] === "a") a = fields[i + 1]
    }
  } else {
    const record = fields as Record<string, string>
    c = record.c
    s = record.s
    r = record.r
    x = record.x
    a = record.a
  }
  if (!c || !s || (x !== undefined && Number(x) <= now)) return Option.none()
  const roles = r ? r.split(",") : []
  return Option.some(
    a ? { customerId: c, sessionId: s, roles, authenticatedAt: Number(a) } : { customerId: c, sessionId: s, roles }
  )
}

export type RefreshUse =
  | { readonly _tag: "Unknown" }
  | { readonly _tag: "Reused"; readonly customerId: string; readonly sessionId: string }
  | { readonly _tag: "Active"; readonly customerId: string; readonly sessionId: string }

/** Spends a refresh token: only the first use of an active one is `Active`. */
export const useRefresh = Effect.fn("TokenStore.useRefresh")(function* (hash: string) {
  const redis = yield* Redis
  const [status, customerId, sessionId] = yield* redis.eval(Scripts.useRefreshToken)(IdentityKeys.refreshToken(hash))
  if (status === "active")
    return { _tag: "Active", customerId: customerId!, sessionId: sessionId! } satisfies RefreshUse as RefreshUse
  if (status === "reused")
    return { _tag: "Reused", customerId: customerId!, sessionId: sessionId! } satisfies RefreshUse as RefreshUse
  return { _tag: "Unknown" } satisfies RefreshUse as RefreshUse
})

/** How long an ended access token's tombstone (its end reason) is kept. */
export const TOMBSTONE_MS = 60_000

/**
 * Ends the given access and refresh tokens (revocation: effective at once). An access token
 * leaves a tombstone with `reason` (kebab case: "logout", "revoked", ...) for a minute, which
 * a live stream bound to it reads to tell its client why it ends.
 */
export const revoke = Effect.fn("TokenStore.revoke")(function* (
  tokens: { readonly access: ReadonlyArray<string>; readonly refresh: ReadonlyArray<string> },
  reason = "revoked"
) {
  const redis = yield* Redis
  // One command per key: on Redis Cluster each record is in its own slot.
  yield* Effect.forEach(
    tokens.access,
    (hash) => redis.eval(Scripts.revokeToken)(IdentityKeys.accessToken(hash), reason, TOMBSTONE_MS),
    {
      concurrency: "unbounded",
      discard: true
    }
  )
  yield* Effect.forEach(tokens.refresh, (hash) => redis.send("DEL", IdentityKeys.refreshToken(hash)), {
    concurrency: "unbounded",
    discard: true
  })
})

export type TokenState =
  | { readonly _tag: "Live"; readonly expiresAt: number }
  | { readonly _tag: "Ended"; readonly reason: string }
  | { readonly _tag: "Gone" }

/** What became of an access token: live (until when), ended (why), or gone (expired long ago). */
export const stateOf = (fields: ReadonlyArray<string | null>, now: number): TokenState => {
  const [c, x, e] = fields
  if (c) {
    const expiresAt = x ? Number(x) : Number.POSITIVE_INFINITY
    return expiresAt > now ? { _tag: "Live", expiresAt } : { _tag: "Ended", reason: "token-expired" }
  }
  if (e) return { _tag: "Ended", reason: e }
  return { _tag: "Gone" }
}
