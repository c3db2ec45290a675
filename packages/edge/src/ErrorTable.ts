// The one table from error `_tag` to HTTP problem. Only the edge knows HTTP: capabilities fail
// with their own tagged errors, and `run` (Run.ts) accepts an Effect only if every error it can
// fail with has an entry here, so a new error tag does not compile until it is mapped.
//
// `detail` is written for the client. It is never the error's own message, which may carry
// internals (SQL, keys, hosts); 5xx causes go to the log instead.
import type { DatabaseError } from "@bank/platform/Database"
import type { RequestFailed } from "@bank/platform/RequestReply"
import type { PublishError } from "@bank/platform/StreamLog"
import type { RedisError } from "effect/persistence/Redis"
import type { InvalidBody, PayloadTooLarge, RouteNotFound, UnsupportedMediaType } from "./HttpErrors.ts"
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
  RouteNotFound: entry<RouteNotFound>({
    type: "not-found",
    status: 404,
    title: "Not found",
    detail: (e) => `No route for ${e.method} ${e.path}.`
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
