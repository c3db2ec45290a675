// RFC 9457 problem details: the one shape of every error response the edge sends, as
// `application/problem+json`. `type` is a stable identifier clients may branch on, and a URL
// relative to the API that documents the problem (`/docs/problems/invalid-body`, served by the
// edge's docs routes); `instance` is the request path; `requestId` is the value echoed
// in `X-Request-Id`, so a customer's report can be matched with our logs.
import type { Context } from "hono"
import type { Principal } from "@bank/contracts"
import type { RequestIdVariables } from "hono/request-id"
import type { ContentfulStatusCode } from "hono/utils/http-status"

/**
 * The Hono environment every route of the edge runs in. `principal` is who the caller is,
 * set by identity's token check for every route behind it (read it with `principalOf`).
 */
export interface EdgeEnv {
  readonly Variables: RequestIdVariables & { principal?: Principal }
}

/** The authenticated caller; a route not behind the token check asking for it is a bug. */
export const principalOf = (c: Context<any>): Principal => {
  const principal = (c as Context<EdgeEnv>).get("principal")
  if (principal === undefined) throw new Error("principalOf: the route is not behind the token check")
  return principal
}

export const problemContentType = "application/problem+json"

export interface Problem {
  /** A slug: `invalid-body` becomes the type `/docs/problems/invalid-body`. */
  readonly type: string
  readonly title: string
  readonly status: number
  /** Written for the client; never an exception's message or anything internal. */
  readonly detail: string
  /** Extension members (RFC 9457 section 3.2), e.g. `errors` of an invalid body. */
  readonly extensions?: Readonly<Record<string, unknown>>
}

export const problemTypeUri = (slug: string): string => `/docs/problems/${slug}`

export const problemResponse = (c: Context<EdgeEnv>, problem: Problem): Response => {
  // Unavailable or timed out is worth a retry (a Redis failover, a restart): say when, unless
  // the route already did (throttling, readiness).
  if ((problem.status === 503 || problem.status === 504) && !c.res.headers.has("Retry-After"))
    c.header("Retry-After", "1")
  return c.body(
    JSON.stringify({
      ...problem.extensions,
      type: problemTypeUri(problem.type),
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      instance: c.req.path,
      requestId: c.get("requestId")
    }),
    problem.status as ContentfulStatusCode,
    { "Content-Type": problemContentType }
  )
}

/** 500 for anything we did not expect: the cause goes to the log, never to the client. */
export const internalErrorResponse = (c: Context<EdgeEnv>): Response =>
  problemResponse(c, {
    type: "internal-error",
    title: "Internal server error",
    status: 500,
    detail: `Something went wrong on our side. Quote request id ${c.get("requestId")} when reporting it.`
  })
