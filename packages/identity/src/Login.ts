// The login command, as the identity actor runs it:
//   1. throttle: per client address and per username (fixed windows), then the username's
//      lockout; refused attempts cost no hashing;
//   2. the password, unsealed, is checked with scrypt against the projected hash, or against a
//      dummy hash of the same cost when the username is unknown, so both cost the same and
//      answer the same;
//   3. a failure counts towards the lockout; a success clears it, opens the session (within the
//      cap) and binds the token hashes the edge generated to it.
// The session id is the request's id: if the actor retries a login that failed half-way (say,
// Redis blinked), it completes the same session instead of opening a second one.
import { Identity } from "@bank/contracts"
import type { Envelope } from "@bank/platform"
import { Durability, PasswordHash, Readiness, StreamLog } from "@bank/platform"
import { Effect, Option } from "effect"
import * as Audit from "./Audit.ts"
import * as Credentials from "./Credentials.ts"
import * as CredentialsProjection from "./CredentialsProjection.ts"
import { IdentityConfig, idleTimeoutFor } from "./IdentityConfig.ts"
import * as LoginThrottle from "./LoginThrottle.ts"
import * as Secrets from "./Secrets.ts"
import * as Revocation from "./Revocation.ts"
import * as SessionExpiry from "./SessionExpiry.ts"
import * as SessionStore from "./SessionStore.ts"
import * as TokenStore from "./TokenStore.ts"

type Reply = typeof Identity.LoggedIn.Type | typeof Identity.LoginRefused.Type

const refused = (reason: Identity.LoginRefusalReason, retryAfterMs?: number): Reply =>
  retryAfterMs === undefined
    ? { _tag: "LoginRefused", reason }
    : { _tag: "LoginRefused", reason, retryAfterSeconds: LoginThrottle.retryAfterSeconds(retryAfterMs) }

/** How long a client should wait before retrying a login that could not be decided yet. */
const notReadyRetryMs = 2000

/** A hash of a random password at the configured cost: what unknown usernames are checked against. */
export const makeDummyHash = (cost: number) =>
  PasswordHash.hash(Secrets.newToken(), { params: { ...PasswordHash.defaultParams, N: cost } })

export const handle = (dummyHash: string) =>
  Effect.fn("Identity.login")(function* (request: Envelope.Delivered<typeof Identity.Login.Type>) {
    const config = yield* IdentityConfig
    const log = yield* StreamLog.StreamLog
    const login = request.payload
    const username = Secrets.normaliseUsername(login.username)
    const usernameFingerprint = Secrets.fingerprint(config.keys, "username", username)
    const client = {
      clientAddress: login.clientAddress,
      ...(login.userAgent !== undefined ? { userAgent: login.userAgent } : {}),
      ...(login.deviceId !== undefined ? { deviceId: login.deviceId } : {})
    }
    const audit = (event: Identity.AuditEvent) => Audit.record(event, request)

    const verdict = yield* LoginThrottle.admit(
      usernameFingerprint,
      Secrets.fingerprint(config.keys, "address", login.clientAddress),
      config
    )
    if (verdict._tag !== "Allowed") {
      yield* audit({ _tag: "LoginFailed", usernameFingerprint, reason: verdict._tag, ...client })
      return refused(verdict._tag, verdict.retryAfterMs)
    }

    const password = Secrets.open(
      config.keys,
      login.sealedPassword,
      Secrets.loginContext(login.username, login.accessTokenHash)
    )
    if (password === undefined) {
      yield* Effect.logWarning(
        "a login's password could not be unsealed: do the edge and identity share IDENTITY_TRANSPORT_KEY?"
      )
    }
    const found = yield* Credentials.lookup(username)
    const matches = yield* PasswordHash.verify(
      password ?? "",
      Option.isSome(found) ? found.value.passwordHash : dummyHash
    )

    // An unknown username is only unknown once the credentials have loaded; before that the
    // login cannot be decided, and telling the customer the password is wrong would be a lie.
    if (Option.isNone(found)) {
      const readiness = yield* Effect.serviceOption(Readiness.Readiness)
      const credentials = Option.isSome(readiness)
        ? yield* readiness.value.of(CredentialsProjection.readModel.name)
        : undefined
      if (credentials !== undefined && credentials.status === "loading") return refused("NotReady", notReadyRetryMs)
    }

    if (Option.isNone(found) || !matches) {
      const { failures, locked } = yield* LoginThrottle.recordFailure(usernameFingerprint, {
        threshold: config.lockoutThreshold,
        failureWindowMs: config.lockoutFailureWindowMs,
        durationMs: config.lockoutDurationMs
      })
      const subject = Option.isSome(found)
        ? { usernameFingerprint, customerId: found.value.customerId, username }
        : { usernameFingerprint }
      yield* audit({
        _tag: "LoginFailed",
        ...subject,
        reason: Option.isSome(found) ? "WrongPassword" : "UnknownUser",
        failures,
        ...client
      })
      if (locked) {
        const lockedUntil = new Date(Date.now() + config.lockoutDurationMs).toISOString()
        yield* audit({
          _tag: "AccountLockedOut",
          ...subject,
          failures,
          lockedUntil,
          clientAddress: login.clientAddress
        })
      }
      return refused("InvalidCredentials")
    }

    const record = found.value
    const subject = { usernameFingerprint, customerId: record.customerId, username }
    const now = Date.now()
    if (!Credentials.isActive(record, now)) {
      yield* audit({ _tag: "LoginFailed", ...subject, reason: "AccountUnavailable", ...client })
      return refused("AccountUnavailable")
    }

    const sessionId = request.id
    const absolute = now + config.sessionMaxLifetimeMs
    const deadline = Math.min(now + idleTimeoutFor(config, record.roles), absolute)
    const opened = yield* SessionStore.open({
      customerId: record.customerId,
      sessionId,
      now,
      deadline,
      absolute,
      accessHash: login.accessTokenHash,
      refreshHash: login.refreshTokenHash,
      cap: config.maxSessions,
      policy: config.sessionCapPolicy
    })
    for (const removed of opened.removed) {
      const reason = removed.why === "evicted" ? "Evicted" : "Expired"
      yield* Revocation.announce(
        record.customerId,
        removed.sessionId,
        reason,
        reason === "Evicted" ? { bySessionId: sessionId } : {},
        request
      )
    }
    if (!opened.opened) {
      yield* audit({ _tag: "LoginFailed", ...subject, reason: "SessionLimitReached", ...client })
      return refused("SessionLimitReached")
    }

    const at = new Date(now).toISOString()
    const accessTtlMs = Math.min(config.accessTokenTtlMs, deadline - now)
    const refreshTtlMs = Math.min(config.refreshTokenTtlMs, absolute - now)
    const principal = { customerId: record.customerId, sessionId, roles: record.roles, authenticatedAt: now }
    // The session (opened above in the customer's slot, so on the same master as its document)
    // and the tokens must survive a Redis failover before the customer is told "logged in".
    yield* Durability.durableOrLogged(
      "a new session and its tokens",
      Effect.gen(function* () {
        yield* SessionStore.writeDocument(
          {
            sessionId,
            customerId: record.customerId,
            device: {
              deviceId: login.deviceId ?? null,
              userAgent: login.userAgent ?? null,
              clientAddress: login.clientAddress
            },
            createdAt: at,
            lastSeenAt: at,
            absoluteExpiresAt: new Date(absolute).toISOString(),
            recentActions: [],
            preferences: { theme: "system", language: "en" },
            recommendations: []
          },
          deadline
        )
        yield* SessionStore.setAuthenticatedAt(record.customerId, sessionId, now, absolute)
        yield* TokenStore.putAccess(login.accessTokenHash, principal, accessTtlMs)
        yield* TokenStore.putRefresh(login.refreshTokenHash, principal, refreshTtlMs)
      })
    )
    yield* LoginThrottle.recordSuccess(usernameFingerprint)
    yield* SessionExpiry.track(record.customerId, sessionId, deadline)

    yield* audit({ _tag: "LoginSucceeded", ...subject, sessionId, ...client })
    yield* log.publish(Identity.sessionEvents, {
      key: record.customerId,
      payload: {
        _tag: "SessionStarted",
        customerId: record.customerId,
        sessionId,
        ...(login.deviceId ? { deviceId: login.deviceId } : {})
      },
      causedBy: request
    })
    return {
      _tag: "LoggedIn",
      customerId: record.customerId,
      sessionId,
      roles: record.roles,
      expiresIn: Math.floor(accessTtlMs / 1000),
      refreshExpiresIn: Math.floor(refreshTtlMs / 1000)
    } satisfies Reply as Reply
  })
