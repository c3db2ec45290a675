// Tables from error `_tag` to HTTP problem. This one maps what the kit itself and the platform
// fail with; each capability maps its own tags next to its Errors.ts (`problems`, built with
// `entry`), and the edge merges the tables. `run` (Run.ts) accepts an Effect only if every error
// it can fail with has an entry in the kit's table or the capability's, so a new error tag does
// not compile until it is mapped.
//
// `detail` is written for the client. It is never the error's own message, which may carry
// internals (SQL, keys, hosts); 5xx causes go to the log instead.
import type { DatabaseError, DocumentStoreError, PublishError, RequestFailed } from "@bank/platform"
import type { RedisError } from "effect/persistence/Redis"
import type {
  DuplicateKey,
  InvalidBody,
  InvalidQuery,
  NotYetConsistent,
  PayloadTooLarge,
  RouteNotFound,
  UnsupportedMediaType
} from "./HttpErrors.ts"
import type { Problem } from "./ProblemDetails.ts"
import type { StepUpRequired } from "./StepUp.ts"

export interface Entry<E> {
  /** Problem type slug; defaults to the tag in kebab case. */
  readonly type?: string
  readonly status: number | ((error: E) => number)
  readonly title: string
  readonly detail: string | ((error: E) => string)
  readonly extensions?: (error: E) => Readonly<Record<string, unknown>>
}

// Names the error type an entry reads, so its functions are checked against that error.
export const entry = <E>(e: Entry<E>): Entry<E> => e

export const unavailable = "A service we depend on did not answer. Try again shortly."

/** The kit's own entries: HTTP itself and the platform's infrastructure errors. */
export const kitProblems = {
  // HTTP itself (HttpErrors.ts)
  UnsupportedMediaType: entry<UnsupportedMediaType>({
    status: 415,
    title: "Unsupported media type",
    detail: (e) => `Send the body as application/json in UTF-8${e.contentType ? `, not ${e.contentType}` : ""}.`
  }),
  DuplicateKey: entry<DuplicateKey>({
    status: 400,
    title: "Duplicate key in request body",
    detail: (e) => `The key ${e.path} appears more than once; send each key once.`,
    extensions: (e) => ({ errors: [{ path: e.path, message: "duplicate key" }] })
  }),
  MalformedBody: entry({ status: 400, title: "Malformed request body", detail: "The request body is not valid JSON." }),
  InvalidBody: entry<InvalidBody>({
    status: 400,
    title: "Invalid request body",
    detail: (e) =>
      `The request body has ${e.errors.length} invalid field${e.errors.length === 1 ? "" : "s"}; see errors.`,
    extensions: (e) => ({ errors: e.errors })
  }),
  InvalidQuery: entry<InvalidQuery>({
    status: 400,
    title: "Invalid query",
    detail: (e) =>
      `The request has ${e.errors.length} invalid parameter${e.errors.length === 1 ? "" : "s"}; see errors.`,
    extensions: (e) => ({ errors: e.errors })
  }),
  PayloadTooLarge: entry<PayloadTooLarge>({
    status: 413,
    title: "Payload too large",
    detail: (e) => `The request body is larger than ${e.limitBytes} bytes.`
  }),
  // Read-your-writes (ConsistencyToken.ts)
  InvalidConsistencyToken: entry({
    status: 400,
    title: "Invalid Consistency-Token",
    detail: "The Consistency-Token header is not one this API issued. Send the value a write answered, unchanged."
  }),
  NotYetConsistent: entry<NotYetConsistent>({
    status: 503,
    title: "Not yet consistent",
    detail: (e) =>
      `Your change is not in this document yet. Try again in ${e.retryAfterSeconds} second(s) with the same Consistency-Token.`,
    extensions: (e) => ({ retryAfterSeconds: e.retryAfterSeconds })
  }),
  RouteNotFound: entry<RouteNotFound>({
    type: "not-found",
    status: 404,
    title: "Not found",
    detail: (e) => `No route for ${e.method} ${e.path}.`
  }),

  // Roles.ts: the caller lacks the role a route needs.
  Forbidden: entry({
    status: 403,
    title: "Forbidden",
    detail: "You may not use this route."
  }),

  // StepUp.ts: the action needs a recent authentication the session does not have.
  StepUpRequired: entry<StepUpRequired>({
    status: 403,
    title: "Step-up authentication required",
    detail: (e) =>
      `This ${e.action === "transfer" ? "transfer" : "change"} needs you to confirm it is you: POST /v1/auth/step-up with your password (valid ${e.maxAgeSeconds} seconds), then send it again.`,
    extensions: (e) => ({
      stepUp: { href: "/v1/auth/step-up", method: "POST", factors: ["password"] },
      action: e.action
    })
  }),

  // Infrastructure (platform): unavailable is worth a retry (503), a bug is not (500).
  RedisError: entry<RedisError>({
    type: "unavailable",
    status: 503,
    title: "Service unavailable",
    detail: unavailable
  }),
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
  })
}

/** Error tag to problem entry: the kit's, a capability's, or the edge's merged table. */
export type ProblemTable = Readonly<Record<string, Entry<any>>>

export type KitTag = keyof typeof kitProblems

/** What `run` accepts as an Effect's error: anything whose `_tag` is mapped (`Tag` or the kit's). */
export interface MappedError<Tag extends string = never> {
  readonly _tag: Tag | KitTag
}

const kebab = (tag: string) => tag.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()

export const problemOf = (table: ProblemTable, error: { readonly _tag: string }): Problem => {
  // Each entry reads the error type named by its own tag; the lookup cannot show that.
  const e = (table[error._tag] ?? kitProblems[error._tag as KitTag]) as Entry<{ readonly _tag: string }>
  return {
    type: e.type ?? kebab(error._tag),
    status: typeof e.status === "function" ? e.status(error) : e.status,
    title: e.title,
    detail: typeof e.detail === "function" ? e.detail(error) : e.detail,
    ...(e.extensions ? { extensions: e.extensions(error) } : {})
  }
}

export const isMappedError = (table: ProblemTable, u: unknown): u is { readonly _tag: string } =>
  typeof u === "object" &&
  u !== null &&
  "_tag" in u &&
  typeof u._tag === "string" &&
  (Object.hasOwn(table, u._tag) || Object.hasOwn(kitProblems, u._tag))
