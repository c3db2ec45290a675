// The one table from error `_tag` to HTTP problem. Only the edge knows HTTP: capabilities fail
// with their own tagged errors, and `run` (Run.ts) accepts an Effect only if every error it can
// fail with has an entry here, so a new error tag does not compile until it is mapped.
//
// `detail` is written for the client. It is never the error's own message, which may carry
// internals (SQL, keys, hosts); 5xx causes go to the log instead.
import type * as Dashboard from "@bank/dashboard/Errors"
import type * as Identity from "@bank/identity/Errors"
import type * as Payments from "@bank/payments/Errors"
import type { DatabaseError } from "@bank/platform/Database"
import type { DocumentStoreError } from "@bank/platform/DocumentStore"
import type { RequestFailed } from "@bank/platform/RequestReply"
import type * as Prefetch from "@bank/prefetch/Errors"
import type * as Profile from "@bank/profile/Errors"
import type { PublishError } from "@bank/platform/StreamLog"
import type { RedisError } from "effect/persistence/Redis"
import type { InvalidBody, NotYetConsistent, PayloadTooLarge, RouteNotFound, UnsupportedMediaType } from "./HttpErrors.ts"
import type { Problem } from "./ProblemDetails.ts"

interface Entry<E> {
  /** Problem type slug; defaults to the tag in kebab case. */
  readonly type?: string
  readonly status: number | ((error: E) => number)
  readonly title: string
  readonly detail: string | ((error: E) => string)
  readonly extensions?: (error: E) => Readonly<Record<string, unknown>>
}

// Names the error type an entry reads, so its functions are checked against that error.
const entry = <E>(e: Entry<E>): Entry<E> => e

const unavailable = "A service we depend on did not answer. Try again shortly."

export const errorTable = {
  // HTTP itself (HttpErrors.ts)
  UnsupportedMediaType: entry<UnsupportedMediaType>({
    status: 415,
    title: "Unsupported media type",
    detail: (e) => `Send the body as application/json${e.contentType ? `, not ${e.contentType}` : ""}.`
  }),
  MalformedBody: entry({ status: 400, title: "Malformed request body", detail: "The request body is not valid JSON." }),
  InvalidBody: entry<InvalidBody>({
    status: 400,
    title: "Invalid request body",
    detail: (e) => `The request body has ${e.errors.length} invalid field${e.errors.length === 1 ? "" : "s"}; see errors.`,
    extensions: (e) => ({ errors: e.errors })
  }),
  PayloadTooLarge: entry<PayloadTooLarge>({
    status: 413,
    title: "Payload too large",
    detail: (e) => `The request body is larger than ${e.limitBytes} bytes.`
  }),
  InvalidConsistencyToken: entry({
    status: 400,
    title: "Invalid Consistency-Token",
    detail: "The Consistency-Token header is not one this API issued. Send the value a write answered, unchanged."
  }),
  NotYetConsistent: entry<NotYetConsistent>({
    status: 503,
    title: "Not yet consistent",
    detail: (e) => `Your change is not in this document yet. Try again in ${e.retryAfterSeconds} second(s) with the same Consistency-Token.`,
    extensions: (e) => ({ retryAfterSeconds: e.retryAfterSeconds })
  }),
  RouteNotFound: entry<RouteNotFound>({
    type: "not-found",
    status: 404,
    title: "Not found",
    detail: (e) => `No route for ${e.method} ${e.path}.`
  }),

  Forbidden: entry({
    status: 403,
    title: "Forbidden",
    detail: "You may not use this route."
  }),

  // Infrastructure (platform): unavailable is worth a retry (503), a bug is not (500).
  RedisError: entry<RedisError>({ type: "unavailable", status: 503, title: "Service unavailable", detail: unavailable }),
  DatabaseError: entry<DatabaseError>({
    type: "unavailable",
    status: (e) => (e.retryable ? 503 : 500),
    title: "Service unavailable",
    detail: unavailable
  }),
  PublishError: entry<PublishError>({
    type: "unavailable",
    status: (e) => (e.reason === "Unavailable" ? 503 : 500),
    title: "Service unavailable",
    detail: unavailable
  }),
  RequestTimeout: entry({
    type: "timeout",
    status: 504,
    title: "Timed out",
    detail: "The request took too long to process. Try again shortly."
  }),
  RequestFailed: entry<RequestFailed>({
    type: "unavailable",
    status: (e) => (e.reason === "InvalidReply" ? 500 : 503),
    title: "Service unavailable",
    detail: unavailable
  }),
  DocumentStoreError: entry<DocumentStoreError>({
    type: "unavailable",
    status: (e) => (e.reason === "Unavailable" ? 503 : 500),
    title: "Service unavailable",
    detail: unavailable
  }),

  // Identity (@bank/identity/Errors). Wrong username and wrong password read the same.
  Unauthenticated: entry<Identity.Unauthenticated>({
    status: 401,
    title: "Unauthenticated",
    detail: (e) => (e.reason === "MissingToken" ? "Send a bearer access token." : "The access token is invalid, expired or revoked.")
  }),
  InvalidCredentials: entry({ status: 401, title: "Invalid credentials", detail: "The username or password is wrong." }),
  LoginThrottled: entry<Identity.LoginThrottled>({
    status: 429,
    title: "Too many login attempts",
    detail: (e) => `Try again in ${e.retryAfterSeconds} seconds.`,
    extensions: (e) => ({ retryAfterSeconds: e.retryAfterSeconds })
  }),
  LoginNotReady: entry<Identity.LoginNotReady>({
    status: 503,
    title: "Login not available yet",
    detail: (e) => `The service is starting. Try again in ${e.retryAfterSeconds} seconds.`,
    extensions: (e) => ({ retryAfterSeconds: e.retryAfterSeconds })
  }),
  AccountUnavailable: entry({ status: 403, title: "Account unavailable", detail: "This account cannot log in. Contact the bank." }),
  SessionLimitReached: entry({
    status: 409,
    title: "Too many sessions",
    detail: "You are logged in on too many devices. Log out on one of them first."
  }),
  InvalidRefreshToken: entry({ status: 401, title: "Invalid refresh token", detail: "Log in again." }),
  SessionNotFound: entry({ status: 404, title: "Session not found", detail: "There is no such session." }),

  // Dashboard (@bank/dashboard/Errors)
  InvalidLastEventId: entry<Dashboard.InvalidLastEventId>({
    status: 400,
    title: "Invalid Last-Event-ID",
    detail: "Last-Event-ID must be an event id this stream sent (two numbers joined by a dash); reconnect without it."
  }),

  // Payments (@bank/payments/Errors). A rejected transfer is not an error: it is its status.
  InvalidIdempotencyKey: entry<Payments.InvalidIdempotencyKey>({
    status: 400,
    title: "Invalid Idempotency-Key",
    detail: (e) =>
      e.reason === "Missing"
        ? "Send an Idempotency-Key header (a new unique value, e.g. a UUID, per transfer)."
        : "The Idempotency-Key header must be 1 to 128 visible ASCII characters."
  }),
  IdempotencyKeyReused: entry<Payments.IdempotencyKeyReused>({
    status: 422,
    title: "Idempotency-Key already used",
    detail: "This Idempotency-Key was used for a different transfer. Send a new key with a new transfer.",
    extensions: (e) => ({ transferId: e.transferId })
  }),
  TransferNotFound: entry({ status: 404, title: "Transfer not found", detail: "There is no such transfer among yours." }),

  // Prefetch (@bank/prefetch/Errors): another customer's account reads as not found.
  AccountNotFound: entry({ status: 404, title: "Account not found", detail: "There is no such account among yours." }),
  InvalidPageQuery: entry<Prefetch.InvalidPageQuery>({
    status: 400,
    title: "Invalid query parameter",
    detail: (e) => `${e.parameter}: ${e.detail}`,
    extensions: (e) => ({ parameter: e.parameter })
  }),

  // Profile (@bank/profile/Errors)
  ProfileNotFound: entry({ status: 404, title: "Profile not found", detail: "Your profile is being prepared. Try again shortly." }),
  UnknownProfileField: entry<Profile.UnknownProfileField>({
    status: 400,
    title: "Unknown profile field",
    detail: (e) => `A profile has no field ${e.fields.join(", ")}.`,
    extensions: (e) => ({ fields: e.fields, allowed: e.allowed })
  })
}

export type MappedTag = keyof typeof errorTable

/** What `run` accepts as an Effect's error: anything whose `_tag` has an entry above. */
export interface MappedError {
  readonly _tag: MappedTag
}

const kebab = (tag: string) => tag.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()

export const problemOf = (error: MappedError): Problem => {
  // Each entry reads the error type named by its own tag; the union lookup cannot show that.
  const e = errorTable[error._tag] as Entry<MappedError>
  return {
    type: e.type ?? kebab(error._tag),
    status: typeof e.status === "function" ? e.status(error) : e.status,
    title: e.title,
    detail: typeof e.detail === "function" ? e.detail(error) : e.detail,
    ...(e.extensions ? { extensions: e.extensions(error) } : {})
  }
}

export const isMappedError = (u: unknown): u is MappedError =>
  typeof u === "object" && u !== null && "_tag" in u && typeof u._tag === "string" && Object.hasOwn(errorTable, u._tag)
