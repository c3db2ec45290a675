// The identity routes as the OpenAPI document describes them: log-in, tokens, sessions and the
// session document, with the Schemas the routes decode (LoginBody, RefreshBody, Preferences).
import { Identity } from "@bank/contracts"
import { consistencyTokenRequest, consistencyTokenResponse, DateTime, type Operation, operation } from "@bank/http"
import { Schema } from "effect"
import { LoginBody, RefreshBody, StepUpBody } from "./Routes.ts"

export const TokenPair = Schema.Struct({
  tokenType: Schema.Literal("Bearer"),
  accessToken: Schema.String.annotate({ description: "Send as `Authorization: Bearer <accessToken>`." }),
  refreshToken: Schema.String.annotate({ description: "One use: POST /v1/auth/refresh answers a new pair." }),
  expiresIn: Schema.Int.annotate({ description: "Seconds the access token lives (it also ends with the session)." }),
  refreshExpiresIn: Schema.Int,
  sessionId: Schema.String,
  customerId: Schema.String,
  roles: Schema.Array(Schema.String)
}).annotate({ identifier: "TokenPair" })

const Text = Schema.NullOr(Schema.String)

export const SessionSummary = Schema.Struct({
  sessionId: Schema.String,
  current: Schema.Boolean.annotate({ description: "The session of this request." }),
  device: Schema.NullOr(Schema.Struct({ deviceId: Text, userAgent: Text, clientAddress: Schema.String })),
  createdAt: Schema.NullOr(DateTime),
  lastSeenAt: Schema.NullOr(DateTime),
  expiresAt: DateTime,
  absoluteExpiresAt: Schema.NullOr(DateTime)
}).annotate({ identifier: "SessionSummary" })

export const SessionPreferences = Schema.Struct({ theme: Schema.String, language: Schema.String }).annotate({
  identifier: "SessionPreferences"
})

export const SessionDocument = Schema.Struct({
  sessionId: Schema.String,
  customerId: Schema.String,
  device: Schema.Struct({ deviceId: Text, userAgent: Text, clientAddress: Schema.String }),
  createdAt: DateTime,
  lastSeenAt: DateTime,
  absoluteExpiresAt: DateTime,
  recentActions: Schema.Array(Schema.Struct({ action: Schema.String, status: Schema.Int, at: DateTime })),
  preferences: SessionPreferences,
  recommendations: Schema.Array(Schema.Unknown)
}).annotate({ identifier: "Session" })

const sessionId = { name: "id", in: "path" as const, required: true, description: "A session id (sessionId)." }
const bodyProblems = ["InvalidBody", "MalformedBody", "UnsupportedMediaType", "PayloadTooLarge"] as const

export const identityOperations: ReadonlyArray<Operation> = [
  operation({
    method: "post",
    path: "/v1/auth/login",
    operationId: "login",
    tag: "Authentication",
    summary: "Log in: a token pair and a new session",
    authenticated: false,
    requestBody: LoginBody.annotate({ identifier: "LoginRequest" }),
    responses: { 200: { description: "Logged in.", schema: TokenPair } },
    problems: [
      "InvalidCredentials",
      "LoginThrottled",
      "AccountUnavailable",
      "SessionLimitReached",
      "RequestTimeout",
      ...bodyProblems
    ]
  }),
  operation({
    method: "post",
    path: "/v1/auth/refresh",
    operationId: "refresh",
    tag: "Authentication",
    summary: "A new token pair for a refresh token (which is spent)",
    authenticated: false,
    requestBody: RefreshBody.annotate({ identifier: "RefreshRequest" }),
    responses: { 200: { description: "The new pair.", schema: TokenPair } },
    problems: ["InvalidRefreshToken", "RequestTimeout", ...bodyProblems]
  }),
  operation({
    method: "post",
    path: "/v1/auth/step-up",
    operationId: "stepUp",
    tag: "Authentication",
    summary: "Authenticate again (the password) before a sensitive action",
    description:
      "Transfers to others above the threshold and e-mail or phone changes answer 403 step-up-required unless the session authenticated recently; this makes it so.",
    requestBody: StepUpBody.annotate({ identifier: "StepUpRequest" }),
    responses: {
      200: {
        description: "The session counts as freshly authenticated.",
        schema: Schema.Struct({ authenticatedAt: DateTime })
      }
    },
    problems: ["StepUpFailed", "LoginThrottled", "RequestTimeout", ...bodyProblems]
  }),
  operation({
    method: "post",
    path: "/v1/auth/logout",
    operationId: "logout",
    tag: "Authentication",
    summary: "Log out this session",
    responses: { 204: { description: "Logged out: the tokens are refused from now on." } },
    problems: ["RequestTimeout"]
  }),
  operation({
    method: "get",
    path: "/v1/sessions",
    operationId: "listSessions",
    tag: "Sessions",
    summary: "Your active sessions",
    responses: {
      200: {
        description: "Every active session.",
        schema: Schema.Struct({ sessions: Schema.Array(SessionSummary) }).annotate({ identifier: "Sessions" })
      }
    }
  }),
  operation({
    method: "delete",
    path: "/v1/sessions",
    operationId: "logOutEverywhere",
    tag: "Sessions",
    summary: "Log out everywhere: end every session, this one included",
    responses: { 204: { description: "Every session ended; open live feeds close." } },
    problems: ["RequestTimeout"]
  }),
  operation({
    method: "delete",
    path: "/v1/sessions/{id}",
    operationId: "endSession",
    tag: "Sessions",
    summary: "End one of your sessions",
    parameters: [sessionId],
    responses: { 204: { description: "Ended." } },
    problems: ["SessionNotFound", "RequestTimeout"]
  }),
  operation({
    method: "get",
    path: "/v1/session",
    operationId: "getSession",
    tag: "Sessions",
    summary: "This session's document: device, recent actions, preferences, recommendations",
    parameters: [consistencyTokenRequest],
    responses: { 200: { description: "The session document.", schema: SessionDocument } },
    problems: ["SessionNotFound", "InvalidConsistencyToken", "NotYetConsistent"]
  }),
  operation({
    method: "patch",
    path: "/v1/session/preferences",
    operationId: "updatePreferences",
    tag: "Sessions",
    summary: "Change this session's theme or language",
    requestBody: Identity.Preferences.annotate({ identifier: "PreferencesChange" }),
    responses: {
      200: {
        description: "The preferences as the session document will hold them.",
        schema: Schema.Struct({ preferences: SessionPreferences }),
        headers: consistencyTokenResponse
      }
    },
    problems: ["SessionNotFound", ...bodyProblems]
  })
]

const customerIdParameter = { name: "customerId", in: "path" as const, required: true, description: "A customer id." }
const staffOnly = ["Forbidden", "RequestTimeout"] as const

/** The admin API (role `admin`; AdminRoutes.ts). */
export const adminOperations: ReadonlyArray<Operation> = [
  operation({
    method: "get",
    path: "/v1/admin/customers/{customerId}/sessions",
    operationId: "adminListSessions",
    tag: "Admin",
    summary: "A customer's active sessions (staff only)",
    parameters: [customerIdParameter],
    responses: {
      200: { description: "Every active session.", schema: Schema.Struct({ sessions: Schema.Array(SessionSummary) }) }
    },
    problems: [...staffOnly, "SessionNotFound"]
  }),
  operation({
    method: "delete",
    path: "/v1/admin/customers/{customerId}/sessions",
    operationId: "adminEndSessions",
    tag: "Admin",
    summary: "End every session of a customer (staff only)",
    parameters: [customerIdParameter],
    responses: { 200: { description: "How many ended.", schema: Schema.Struct({ ended: Schema.Int }) } },
    problems: [...staffOnly, "SessionNotFound"]
  }),
  operation({
    method: "delete",
    path: "/v1/admin/customers/{customerId}/sessions/{sessionId}",
    operationId: "adminEndSession",
    tag: "Admin",
    summary: "End one session of a customer (staff only)",
    parameters: [
      customerIdParameter,
      { name: "sessionId", in: "path" as const, required: true, description: "A session id." }
    ],
    responses: { 204: { description: "Ended." } },
    problems: [...staffOnly, "SessionNotFound"]
  }),
  operation({
    method: "post",
    path: "/v1/admin/lockouts/{username}/unlock",
    operationId: "adminUnlock",
    tag: "Admin",
    summary: "Lift a username's lockout (staff only)",
    parameters: [{ name: "username", in: "path" as const, required: true, description: "The login name." }],
    responses: { 200: { description: "Whether it was locked.", schema: Schema.Struct({ wasLocked: Schema.Boolean }) } },
    problems: [...staffOnly, "InvalidQuery"]
  }),
  operation({
    method: "get",
    path: "/v1/admin/customers/{customerId}/audit",
    operationId: "adminAuditTrail",
    tag: "Admin",
    summary: "A customer's newest audit events (staff only)",
    parameters: [
      customerIdParameter,
      { name: "limit", in: "query" as const, required: false, description: "1 to 1000 (default 100)." }
    ],
    responses: {
      200: { description: "Newest first.", schema: Schema.Struct({ events: Schema.Array(Schema.Unknown) }) }
    },
    problems: [...staffOnly, "SessionNotFound", "InvalidQuery"]
  })
]
