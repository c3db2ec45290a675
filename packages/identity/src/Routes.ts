// The identity HTTP API (JSON; errors problem+json through the edge's ErrorTable):
//   POST   /v1/auth/login            {username, password, deviceId?} → 200 token pair
//   POST   /v1/auth/refresh          {refreshToken} → 200 new pair (the old one is spent)
//   POST   /v1/auth/logout           → 204; the access token is refused from then on
//   POST   /v1/auth/step-up          {password} → 200 {authenticatedAt}: the session counts as
//                                     freshly authenticated (StepUp.ts); 403 wrong password
//   GET    /v1/sessions              → the customer's active sessions
//   DELETE /v1/sessions              → 204, every session ended ("log out everywhere")
//   DELETE /v1/sessions/{id}         → 204, or 404 when it is not one of the customer's
//   GET    /v1/session               → the current session document
//   PATCH  /v1/session/preferences   {theme?, language?} → 200 the preferences, and a
//                                    Consistency-Token for GET /v1/session
// Tokens are generated here and sent to the identity actor only as hashes; the password is
// sealed for it. Reads (sessions, the session document) come straight from Redis; every change
// is a request to the identity actor or an event for the session projector.
import { Identity } from "@bank/contracts"
import type { Routes } from "@bank/http"
import type { ProblemTag } from "./Problems.ts"
import { ConsistencyToken, decodeBody, plainResponse } from "@bank/http"
import { DocumentStore, RequestReply, StreamLog } from "@bank/platform"
import { Effect, Metric, Option, Schema } from "effect"
import type { Redis } from "effect/persistence/Redis"
import type { Context } from "hono"
import { principalOf } from "./AuthMiddleware.ts"
import * as ClientAddress from "./ClientAddress.ts"
import {
  AccountUnavailable,
  InvalidCredentials,
  InvalidRefreshToken,
  LoginNotReady,
  LoginThrottled,
  SessionLimitReached,
  SessionNotFound,
  StepUpFailed,
  Unauthenticated
} from "./Errors.ts"
import { IdentityConfig } from "./IdentityConfig.ts"
import * as Secrets from "./Secrets.ts"
import { SessionDocuments } from "./SessionDocuments.ts"
import * as SessionStore from "./SessionStore.ts"
import * as StepUp from "./StepUp.ts"
import { bearerToken, type TokenCheck } from "./TokenCheck.ts"

/** GET /v1/session answers the stored document as it is (PlainResponse.ts). */
const sessionDocumentHeaders = { "Content-Type": "application/json", "Cache-Control": "no-store" }

/** Login answers by outcome (`LoggedIn` or the refusal's reason) on the edge's /metrics. */
const loginOutcomes = Metric.counter("login_outcomes_total", {
  description: "Logins answered, by outcome.",
  incremental: true
})

export type Services =
  | IdentityConfig
  | RequestReply.Requester
  | StreamLog.StreamLog
  | DocumentStore.DocumentStore
  | TokenCheck
  | Redis
  | SessionDocuments

export const LoginBody = Schema.Struct({
  username: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(256)),
  password: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(1024)),
  deviceId: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(128)))
})
export const RefreshBody = Schema.Struct({ refreshToken: Schema.String.check(Schema.isMaxLength(512)) })
/** The password again; a second factor (TOTP) would be a further field here (see the README). */
export const StepUpBody = Schema.Struct({
  password: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(1024))
})

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const clientOf = (c: Context, hops: number, deviceId?: string) => {
  const userAgent = c.req.header("User-Agent")?.slice(0, 512)
  return {
    clientAddress: ClientAddress.of(c, hops).slice(0, 64),
    ...(userAgent ? { userAgent } : {}),
    ...(deviceId !== undefined ? { deviceId } : {})
  }
}

/** Asks the identity actor; its answer or the edge's RequestTimeout / RequestFailed. */
const ask = (key: string, payload: Identity.IdentityRequest) =>
  Effect.gen(function* () {
    const config = yield* IdentityConfig
    const requester = yield* RequestReply.Requester
    return yield* requester.request(Identity.requests, { key, payload }, { timeoutMs: config.requestTimeoutMs })
  })

const unexpected = (reply: Identity.IdentityReply) => Effect.die(new Error(`unexpected identity reply ${reply._tag}`))

const tokenPair = () => {
  const accessToken = Secrets.newToken()
  const refreshToken = Secrets.newToken()
  return {
    accessToken,
    refreshToken,
    accessTokenHash: Secrets.hashToken(accessToken),
    refreshTokenHash: Secrets.hashToken(refreshToken)
  }
}

const issued = (
  c: Context,
  pair: ReturnType<typeof tokenPair>,
  reply: typeof Identity.LoggedIn.Type | typeof Identity.TokensRefreshed.Type
) => {
  // Tokens must not end up in shared caches or browser history.
  c.header("Cache-Control", "no-store")
  return c.json({
    tokenType: "Bearer",
    accessToken: pair.accessToken,
    refreshToken: pair.refreshToken,
    expiresIn: reply.expiresIn,
    refreshExpiresIn: reply.refreshExpiresIn,
    sessionId: reply.sessionId,
    customerId: reply.customerId,
    roles: reply.roles
  })
}

/** A customer's live sessions as the API shows them (`current` marks `current`'s). */
export const sessionsOf = (customerId: string, current?: string) =>
  Effect.gen(function* () {
    const store = yield* DocumentStore.DocumentStore
    const live = yield* SessionStore.list(customerId, Date.now())
    const sessions = yield* Effect.forEach(
      live,
      (session) =>
        store.get(SessionStore.keys(customerId).document(session.sessionId)).pipe(
          Effect.map(
            Option.map((document) => {
              const d = document as Partial<SessionStore.SessionDocument>
              return {
                sessionId: session.sessionId,
                current: session.sessionId === current,
                device: d.device ?? null,
                createdAt: d.createdAt ?? null,
                lastSeenAt: d.lastSeenAt ?? null,
                expiresAt: new Date(session.deadline).toISOString(),
                absoluteExpiresAt: d.absoluteExpiresAt ?? null
              }
            })
          )
        ),
      { concurrency: "unbounded" }
    )
    return sessions.flatMap((s) => (Option.isSome(s) ? [s.value] : []))
  })

/** Asks the identity actor (exported for the admin routes). */
export { ask }

const PreferencesClaim = Schema.Struct({
  k: Schema.Literal("preferences"),
  sessionId: Schema.String,
  preferences: Identity.Preferences
})

/** Some(()) once the session document holds the preferences a Consistency-Token names (another session's: at once). */
const showsPreferences = (
  store: DocumentStore.DocumentStore["Service"],
  key: string,
  sessionId: string,
  claim: ConsistencyToken.Claim
) =>
  Effect.gen(function* () {
    const wanted = yield* ConsistencyToken.fields(claim, PreferencesClaim)
    if (wanted.sessionId !== sessionId) return Option.some<void>(undefined)
    const current = yield* store.get(key, "$.preferences")
    if (Option.isNone(current)) return Option.none<void>()
    const held = current.value as Record<string, unknown>
    return Object.entries(wanted.preferences).every(([k, v]) => held[k] === v)
      ? Option.some<void>(undefined)
      : Option.none<void>()
  })

export const identityRoutes: Routes<Services, ProblemTag> = (app, run) => {
  app.post("/v1/auth/login", (c) =>
    run(
      c,
      Effect.gen(function* () {
        const body = yield* decodeBody(c, LoginBody)
        const config = yield* IdentityConfig
        const pair = tokenPair()
        const reply = yield* ask("login", {
          _tag: "Login",
          username: body.username,
          sealedPassword: Secrets.seal(
            config.keys,
            body.password,
            Secrets.loginContext(body.username, pair.accessTokenHash)
          ),
          accessTokenHash: pair.accessTokenHash,
          refreshTokenHash: pair.refreshTokenHash,
          ...clientOf(c, config.trustedProxyHops, body.deviceId)
        })
        yield* Metric.update(
          Metric.withAttributes(loginOutcomes, {
            outcome:
              reply._tag === "LoggedIn" ? "LoggedIn" : reply._tag === "LoginRefused" ? reply.reason : "Unexpected"
          }),
          1
        )
        if (reply._tag === "LoggedIn") return issued(c, pair, reply)
        if (reply._tag !== "LoginRefused") return yield* unexpected(reply)
        switch (reply.reason) {
          case "InvalidCredentials":
            return yield* new InvalidCredentials()
          case "RateLimited":
          case "LockedOut": {
            const retryAfterSeconds = reply.retryAfterSeconds ?? 60
            c.header("Retry-After", String(retryAfterSeconds))
            return yield* new LoginThrottled({ retryAfterSeconds })
          }
          case "AccountUnavailable":
            return yield* new AccountUnavailable()
          case "SessionLimitReached":
            return yield* new SessionLimitReached()
          case "NotReady": {
            const retryAfterSeconds = reply.retryAfterSeconds ?? 2
            c.header("Retry-After", String(retryAfterSeconds))
            return yield* new LoginNotReady({ retryAfterSeconds })
          }
        }
      })
    )
  )

  app.post("/v1/auth/refresh", (c) =>
    run(
      c,
      Effect.gen(function* () {
        const body = yield* decodeBody(c, RefreshBody)
        if (!Secrets.isTokenShaped(body.refreshToken)) return yield* new InvalidRefreshToken()
        const config = yield* IdentityConfig
        const pair = tokenPair()
        const reply = yield* ask("refresh", {
          _tag: "Refresh",
          refreshTokenHash: Secrets.hashToken(body.refreshToken),
          newAccessTokenHash: pair.accessTokenHash,
          newRefreshTokenHash: pair.refreshTokenHash,
          ...clientOf(c, config.trustedProxyHops)
        })
        if (reply._tag === "TokensRefreshed") return issued(c, pair, reply)
        if (reply._tag === "RefreshRefused") return yield* new InvalidRefreshToken()
        return yield* unexpected(reply)
      })
    )
  )

  app.post("/v1/auth/logout", (c) =>
    run(
      c,
      Effect.gen(function* () {
        const { customerId, sessionId } = principalOf(c)
        const config = yield* IdentityConfig
        yield* ask(customerId, {
          _tag: "Logout",
          customerId,
          sessionId,
          clientAddress: ClientAddress.of(c, config.trustedProxyHops)
        })
        return c.body(null, 204)
      })
    )
  )

  app.post("/v1/auth/step-up", (c) =>
    run(
      c,
      Effect.gen(function* () {
        const { customerId, sessionId } = principalOf(c)
        const body = yield* decodeBody(c, StepUpBody)
        const token = bearerToken(c.req.header("Authorization"))!
        const accessTokenHash = Secrets.hashToken(token)
        const config = yield* IdentityConfig
        const reply = yield* ask(customerId, {
          _tag: "StepUp",
          customerId,
          sessionId,
          accessTokenHash,
          sealedPassword: Secrets.seal(
            config.keys,
            body.password,
            StepUp.context(customerId, sessionId, accessTokenHash)
          ),
          clientAddress: ClientAddress.of(c, config.trustedProxyHops).slice(0, 64)
        })
        if (reply._tag === "SteppedUp") {
          c.header("Cache-Control", "no-store")
          return c.json({ authenticatedAt: new Date(reply.authenticatedAt).toISOString() })
        }
        if (reply._tag !== "StepUpRefused") return yield* unexpected(reply)
        switch (reply.reason) {
          case "InvalidCredentials":
            return yield* new StepUpFailed()
          case "SessionEnded":
            return yield* new Unauthenticated({ reason: "InvalidToken" })
          case "RateLimited":
          case "LockedOut": {
            const retryAfterSeconds = reply.retryAfterSeconds ?? 60
            c.header("Retry-After", String(retryAfterSeconds))
            return yield* new LoginThrottled({ retryAfterSeconds })
          }
        }
      })
    )
  )

  app.get("/v1/sessions", (c) =>
    run(
      c,
      Effect.gen(function* () {
        const { customerId, sessionId: current } = principalOf(c)
        const sessions = yield* sessionsOf(customerId, current)
        c.header("Cache-Control", "no-store")
        return c.json({ sessions })
      })
    )
  )

  app.delete("/v1/sessions", (c) =>
    run(
      c,
      Effect.gen(function* () {
        const { customerId, sessionId } = principalOf(c)
        const config = yield* IdentityConfig
        yield* ask(customerId, {
          _tag: "RevokeAllSessions",
          customerId,
          bySessionId: sessionId,
          clientAddress: ClientAddress.of(c, config.trustedProxyHops)
        })
        return c.body(null, 204)
      })
    )
  )

  app.delete("/v1/sessions/:id", (c) =>
    run(
      c,
      Effect.gen(function* () {
        const { customerId, sessionId: current } = principalOf(c)
        const target = c.req.param("id")
        if (!SESSION_ID.test(target)) return yield* new SessionNotFound({ sessionId: target.slice(0, 64) })
        const config = yield* IdentityConfig
        const reply = yield* ask(customerId, {
          _tag: "RevokeSession",
          customerId,
          sessionId: target,
          bySessionId: current,
          clientAddress: ClientAddress.of(c, config.trustedProxyHops)
        })
        if (reply._tag !== "SessionsRevoked") return yield* unexpected(reply)
        if (reply.count === 0) return yield* new SessionNotFound({ sessionId: target })
        return c.body(null, 204)
      })
    )
  )

  let sessions: SessionDocuments["Service"] | undefined
  app.get("/v1/session", (c) => {
    // A cached session is sent without an Effect run (no I/O, nothing to fail; no span, so only
    // while tracing is off: Run.ts). A read with a Consistency-Token reads Redis itself.
    if (!run.traced && c.req.header(ConsistencyToken.header) === undefined) {
      sessions ??= run.service(SessionDocuments)
      const { customerId, sessionId } = principalOf(c)
      const text = sessions.peek(SessionStore.keys(customerId).document(sessionId))
      if (typeof text === "string") return plainResponse(text, sessionDocumentHeaders)
    }
    return run(
      c,
      Effect.gen(function* () {
        const { customerId, sessionId } = principalOf(c)
        const documents = yield* SessionDocuments
        const key = SessionStore.keys(customerId).document(sessionId)
        if (c.req.header(ConsistencyToken.header) !== undefined) {
          const claim = yield* ConsistencyToken.fromRequest(c)
          if (Option.isSome(claim) && claim.value.k === "preferences") {
            const store = yield* DocumentStore.DocumentStore
            yield* ConsistencyToken.waitFor(c, showsPreferences(store, key, sessionId, claim.value))
          }
          // Redis itself, and nothing cached before what the wait saw.
          documents.forget(key)
        }
        const text = yield* documents.read(key)
        if (text === null) return yield* new SessionNotFound({ sessionId })
        return plainResponse(text, sessionDocumentHeaders)
      })
    )
  })

  app.patch("/v1/session/preferences", (c) =>
    run(
      c,
      Effect.gen(function* () {
        const { customerId, sessionId } = principalOf(c)
        const patch = yield* decodeBody(c, Identity.Preferences)
        const store = yield* DocumentStore.DocumentStore
        const log = yield* StreamLog.StreamLog
        const current = yield* store.get(SessionStore.keys(customerId).document(sessionId), "$.preferences")
        if (Option.isNone(current)) return yield* new SessionNotFound({ sessionId })
        yield* log.publish(Identity.sessionEvents, {
          key: customerId,
          payload: { _tag: "SessionPreferencesChanged", customerId, sessionId, preferences: patch }
        })
        // The projector applies it in a moment; the answer is what the document will hold, and
        // GET /v1/session with the token waits until it does.
        c.header(ConsistencyToken.header, ConsistencyToken.encode({ k: "preferences", sessionId, preferences: patch }))
        return c.json({ preferences: { ...(current.value as object), ...patch } })
      })
    )
  )
}
