// The identity actor: answers the edge's requests on `identity.requests` (consumer group
// `identity`). Login is in Login.ts; here are the token and session commands:
// - Refresh spends the refresh token once. A second use of the same token is a replay (the
//   token was stolen, or the client is broken): the whole session, the token family, ends.
//   Otherwise the new pair the edge generated is written first and then bound to the session,
//   so a revocation running at the same moment either sees and deletes the new pair or makes
//   the binding fail (and the new pair is deleted here). The previous access token ends with
//   the rotation. Roles and the account's status are re-read from the projection, so a change
//   in the customer master takes effect at the next refresh at the latest.
// - Logout, RevokeSession and RevokeAllSessions end sessions (tokens first; SessionStore.ts).
import { Identity } from "@bank/contracts"
import type { Envelope } from "@bank/platform"
import { Durability, RequestReply } from "@bank/platform"
import { Effect, Layer } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as Audit from "./Audit.ts"
import * as Credentials from "./Credentials.ts"
import { IdentityConfig, idleTimeoutFor } from "./IdentityConfig.ts"
import * as Login from "./Login.ts"
import * as LoginThrottle from "./LoginThrottle.ts"
import * as Secrets from "./Secrets.ts"
import * as Revocation from "./Revocation.ts"
import * as SessionStore from "./SessionStore.ts"
import * as StepUp from "./StepUp.ts"
import * as TokenStore from "./TokenStore.ts"

export const group = "identity"

type Request<T extends Identity.IdentityRequest["_tag"]> = Envelope.Delivered<
  Extract<Identity.IdentityRequest, { _tag: T }>
>

const clientOf = (r: { readonly clientAddress: string; readonly userAgent?: string; readonly deviceId?: string }) => ({
  clientAddress: r.clientAddress,
  ...(r.userAgent !== undefined ? { userAgent: r.userAgent } : {}),
  ...(r.deviceId !== undefined ? { deviceId: r.deviceId } : {})
})

/** Ends one session and says so on the audit trail and the session events. */
const endSession = (
  request: Envelope.Delivered<Identity.IdentityRequest>,
  customerId: string,
  sessionId: string,
  reason: Identity.SessionEndReason,
  extra: { readonly bySessionId?: string; readonly clientAddress?: string } = {}
) => Revocation.endOne(customerId, sessionId, reason, extra, request)

const refused = (reason: "Unknown" | "Reused" | "SessionEnded") => ({ _tag: "RefreshRefused", reason }) as const

const refresh = Effect.fn("Identity.refresh")(function* (request: Request<"Refresh">) {
  const config = yield* IdentityConfig
  const redis = yield* Redis
  const r = request.payload
  const client = clientOf(r)
  const use = yield* TokenStore.useRefresh(r.refreshTokenHash)
  if (use._tag === "Unknown") return refused("Unknown")
  const { customerId, sessionId } = use
  const replayed = Effect.gen(function* () {
    yield* Audit.record({ _tag: "RefreshTokenReused", customerId, sessionId, ...client }, request)
    yield* endSession(request, customerId, sessionId, "RefreshTokenReused", { clientAddress: r.clientAddress })
    return refused("Reused")
  })
  if (use._tag === "Reused") return yield* replayed

  const now = Date.now()
  const fields = yield* redis.send<ReadonlyArray<string>>(
    "HGETALL",
    Credentials.recordKey(customerId, yield* Credentials.currentGeneration)
  )
  const account: Record<string, string> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) account[fields[i]!] = fields[i + 1]!
  const stillActive =
    account.passwordHash !== undefined &&
    Credentials.isActive(
      {
        customerId,
        username: account.username ?? "",
        passwordHash: account.passwordHash,
        status: account.status ?? "active",
        lockedUntil: account.lockedUntil ? Number(account.lockedUntil) : undefined,
        roles: []
      },
      now
    )
  const state = SessionStore.parseState(
    yield* redis.send<string | null>("HGET", SessionStore.keys(customerId).state, sessionId)
  )
  if (!stillActive || state === undefined) {
    yield* endSession(request, customerId, sessionId, "Revoked", { clientAddress: r.clientAddress })
    return refused("SessionEnded")
  }

  const idleMs = idleTimeoutFor(config, Credentials.parseRoles(account.roles))
  const deadline = Math.min(now + idleMs, state.absoluteMs)
  const accessTtlMs = Math.min(config.accessTokenTtlMs, deadline - now)
  const refreshTtlMs = Math.min(config.refreshTokenTtlMs, state.absoluteMs - now)
  if (accessTtlMs <= 0) {
    yield* endSession(request, customerId, sessionId, "Revoked")
    return refused("SessionEnded")
  }
  const authenticatedAt = yield* SessionStore.authenticatedAt(customerId, sessionId)
  const principal = {
    customerId,
    sessionId,
    roles: Credentials.parseRoles(account.roles),
    ...(authenticatedAt !== undefined ? { authenticatedAt } : {})
  }
  // The new pair and the session's move to it must survive a Redis failover (Durability.ts).
  const rotation = yield* Durability.durableOrLogged(
    "a token refresh",
    Effect.gen(function* () {
      yield* TokenStore.putAccess(r.newAccessTokenHash, principal, accessTtlMs)
      yield* TokenStore.putRefresh(r.newRefreshTokenHash, principal, refreshTtlMs)
      return yield* SessionStore.rotate({
        customerId,
        sessionId,
        now,
        idleMs,
        refreshHash: r.refreshTokenHash,
        newAccessHash: r.newAccessTokenHash,
        newRefreshHash: r.newRefreshTokenHash
      })
    })
  )
  if (rotation._tag !== "Rotated") {
    yield* TokenStore.revoke({ access: [r.newAccessTokenHash], refresh: [r.newRefreshTokenHash] }, "revoked")
    if (rotation._tag === "Stale") return yield* replayed
    return refused("SessionEnded")
  }
  yield* TokenStore.revoke({ access: [rotation.previousAccessHash], refresh: [] }, "token-refreshed")
  yield* Audit.record({ _tag: "TokenRefreshed", customerId, sessionId, ...client }, request)
  return {
    _tag: "TokensRefreshed",
    customerId,
    sessionId,
    roles: principal.roles,
    expiresIn: Math.floor(accessTtlMs / 1000),
    refreshExpiresIn: Math.floor(refreshTtlMs / 1000)
  } as const
})

const logout = Effect.fn("Identity.logout")(function* (request: Request<"Logout">) {
  const { customerId, sessionId, clientAddress } = request.payload
  const ended = yield* endSession(request, customerId, sessionId, "Logout", { clientAddress })
  return { _tag: "SessionsRevoked", count: ended ? 1 : 0 } as const
})

const revokeSession = Effect.fn("Identity.revokeSession")(function* (request: Request<"RevokeSession">) {
  const { customerId, sessionId, bySessionId, clientAddress } = request.payload
  const ended = yield* endSession(request, customerId, sessionId, "Revoked", { bySessionId, clientAddress })
  return { _tag: "SessionsRevoked", count: ended ? 1 : 0 } as const
})

const revokeAll = Effect.fn("Identity.revokeAll")(function* (request: Request<"RevokeAllSessions">) {
  const { customerId, bySessionId, clientAddress } = request.payload
  const ended = yield* Revocation.endAll(customerId, "LoggedOutEverywhere", { bySessionId, clientAddress }, request)
  return { _tag: "SessionsRevoked", count: ended.length } as const
})

const adminEndSessions = Effect.fn("Identity.adminEndSessions")(function* (request: Request<"AdminEndSessions">) {
  const { customerId, sessionId, byCustomerId, bySessionId } = request.payload
  const by = { byCustomerId, bySessionId }
  if (sessionId !== undefined) {
    const ended = yield* Revocation.endOne(customerId, sessionId, "AdminRevoked", by, request)
    return { _tag: "SessionsRevoked", count: ended ? 1 : 0 } as const
  }
  const ended = yield* Revocation.endAll(customerId, "AdminRevoked", by, request)
  return { _tag: "SessionsRevoked", count: ended.length } as const
})

const adminUnlock = Effect.fn("Identity.adminUnlock")(function* (request: Request<"AdminUnlock">) {
  const config = yield* IdentityConfig
  const usernameFingerprint = Secrets.fingerprint(
    config.keys,
    "username",
    Secrets.normaliseUsername(request.payload.username)
  )
  const wasLocked = yield* LoginThrottle.unlock(usernameFingerprint)
  yield* Audit.record(
    { _tag: "LockoutCleared", usernameFingerprint, by: `admin:${request.payload.byCustomerId}` },
    request
  )
  return { _tag: "Unlocked", wasLocked } as const
})

/** Starts the identity actor in the current scope. */
export const run = Effect.gen(function* () {
  const config = yield* IdentityConfig
  // Made once: an unknown username is checked against it at the cost of a real hash.
  const dummyHash = yield* Login.makeDummyHash(config.dummyHashCost)
  const login = Login.handle(dummyHash)
  const stepUp = StepUp.handle(dummyHash)
  yield* RequestReply.respond({
    group,
    spec: Identity.requests,
    concurrency: config.concurrency,
    batchSize: Math.max(config.concurrency, 16),
    handle: (request) =>
      Effect.gen(function* () {
        switch (request.payload._tag) {
          case "Login":
            return yield* login(request as Request<"Login">)
          case "Refresh":
            return yield* refresh(request as Request<"Refresh">)
          case "Logout":
            return yield* logout(request as Request<"Logout">)
          case "RevokeSession":
            return yield* revokeSession(request as Request<"RevokeSession">)
          case "RevokeAllSessions":
            return yield* revokeAll(request as Request<"RevokeAllSessions">)
          case "StepUp":
            return yield* stepUp(request as Request<"StepUp">)
          case "AdminEndSessions":
            return yield* adminEndSessions(request as Request<"AdminEndSessions">)
          case "AdminUnlock":
            return yield* adminUnlock(request as Request<"AdminUnlock">)
        }
      })
  })
})

export const layer = Layer.effectDiscard(run)
