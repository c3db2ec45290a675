// Step-up: a live session proves again who it is (the password; a second factor would plug in
// here, see the README) before a sensitive action: a transfer to someone else's account above
// the low-value limit, a change of e-mail or phone. The identity actor checks it like a login
// (same throttles and lockout, so step-up cannot be used to guess passwords faster), and on
// success records the time on the session and on its current access token, which is what the
// edge's step-up check reads (the Principal's `authenticatedAt`). Every attempt is audited.
import { Identity } from "@bank/contracts"
import { type Envelope, PasswordHash } from "@bank/platform"
import { Effect } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as Audit from "./Audit.ts"
import * as Credentials from "./Credentials.ts"
import * as IdentityKeys from "./IdentityKeys.ts"
import { IdentityConfig } from "./IdentityConfig.ts"
import * as LoginThrottle from "./LoginThrottle.ts"
import * as Revocation from "./Revocation.ts"
import * as Scripts from "./Scripts.ts"
import * as Secrets from "./Secrets.ts"
import * as SessionStore from "./SessionStore.ts"

type Reply = typeof Identity.SteppedUp.Type | typeof Identity.StepUpRefused.Type

/** What a step-up's sealed password is bound to: the session and its access token. */
export const context = (customerId: string, sessionId: string, accessTokenHash: string): string =>
  `step-up\n${customerId}\n${sessionId}\n${accessTokenHash}`

export const handle = (dummyHash: string) =>
  Effect.fn("Identity.stepUp")(function* (request: Envelope.Delivered<Identity.StepUp>) {
    const config = yield* IdentityConfig
    const redis = yield* Redis
    const { customerId, sessionId, accessTokenHash, clientAddress } = request.payload
    const audit = (event: Identity.AuditEvent) => Audit.record(event, request)
    const failed = (reason: "WrongPassword" | "RateLimited" | "LockedOut" | "SessionEnded") =>
      audit({ _tag: "StepUpFailed", customerId, sessionId, reason, clientAddress })

    const now = Date.now()
    const state = SessionStore.parseState(
      yield* redis.send<string | null>("HGET", SessionStore.keys(customerId).state, sessionId)
    )
    if (
      state === undefined ||
      state.accessHash !== accessTokenHash ||
      !(yield* SessionStore.isLive(customerId, sessionId, now))
    ) {
      yield* failed("SessionEnded")
      return { _tag: "StepUpRefused", reason: "SessionEnded" } satisfies Reply as Reply
    }
    const fields = yield* redis.send<ReadonlyArray<string>>(
      "HGETALL",
      Credentials.recordKey(customerId, yield* Credentials.currentGeneration)
    )
    const account: Record<string, string> = {}
    for (let i = 0; i + 1 < fields.length; i += 2) account[fields[i]!] = fields[i + 1]!
    const usernameFingerprint = Secrets.fingerprint(
      config.keys,
      "username",
      account.username ?? `customer:${customerId}`
    )
    const verdict = yield* LoginThrottle.admit(
      usernameFingerprint,
      Secrets.fingerprint(config.keys, "address", clientAddress),
      config
    )
    if (verdict._tag !== "Allowed") {
      yield* failed(verdict._tag)
      return {
        _tag: "StepUpRefused",
        reason: verdict._tag,
        retryAfterSeconds: LoginThrottle.retryAfterSeconds(verdict.retryAfterMs)
      } satisfies Reply as Reply
    }
    const password = Secrets.open(
      config.keys,
      request.payload.sealedPassword,
      context(customerId, sessionId, accessTokenHash)
    )
    const matches = yield* PasswordHash.verify(password ?? "", account.passwordHash ?? dummyHash)
    if (!matches || account.passwordHash === undefined) {
      const { locked } = yield* LoginThrottle.recordFailure(usernameFingerprint, {
        threshold: config.lockoutThreshold,
        failureWindowMs: config.lockoutFailureWindowMs,
        durationMs: config.lockoutDurationMs
      })
      yield* failed("WrongPassword")
      // A lockout ends the session too: whoever holds it does not know the password.
      if (locked) {
        yield* Revocation.endOne(customerId, sessionId, "Revoked", { clientAddress }, request)
        return {
          _tag: "StepUpRefused",
          reason: "LockedOut",
          retryAfterSeconds: LoginThrottle.retryAfterSeconds(config.lockoutDurationMs)
        } satisfies Reply as Reply
      }
      return { _tag: "StepUpRefused", reason: "InvalidCredentials" } satisfies Reply as Reply
    }
    yield* LoginThrottle.recordSuccess(usernameFingerprint)
    yield* SessionStore.setAuthenticatedAt(customerId, sessionId, now, state.absoluteMs)
    yield* redis.eval(Scripts.setTokenField)(IdentityKeys.accessToken(accessTokenHash), "a", String(now))
    yield* audit({ _tag: "StepUpSucceeded", customerId, sessionId, clientAddress })
    return { _tag: "SteppedUp", authenticatedAt: now } satisfies Reply as Reply
  })
