// Headers every answer of the edge carries, set in one place after the route answered (by the
// request step, RequestStep.ts, or on Node when the status line is written, NodeResponse.ts):
// - `X-Request-Id` (the client's own when it is short and plain, else one we made);
// - `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` on everything;
// - a restrictive `Content-Security-Policy` (and `X-Frame-Options: DENY`) on HTML;
// - `Strict-Transport-Security` when the request came over TLS (directly, or as the trusted
//   proxy in front says with `X-Forwarded-Proto: https`);
// - `Cache-Control: no-store` on every answer to a request that carried credentials (an
//   `Authorization` header), problems included, unless the route already forbade storing;
// - `X-Data-Source` (which store answered a read) only when debug headers are on
//   (HTTP_DEBUG_HEADERS=true): otherwise it tells an outsider about our internals.
// The rules are written once (`merged`) and given two ways: `apply` on a Fetch `Headers` (any server, tests' `app.request`)
// and `forNode` on the plain header object @hono/node-server hands to Node's `writeHead`, which
// spares the edge a Fetch `Headers` per answer (materializing, validating and iterating one cost
// more than the whole of a plain Hono answer; scripts/bench/edgeStep.ts).
import type { Context } from "hono"
import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders } from "node:http"

export interface Options {
  /** Keep diagnostic headers such as X-Data-Source (default false). */
  readonly debugHeaders?: boolean
}

export const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; " +
  "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

const hsts = "max-age=31536000; includeSubDomains"

const forwardedHttps = (value: string | undefined): boolean => value?.split(",")[0]?.trim() === "https"

/** What the rules need to know of the request. */
export interface RequestFacts {
  /** It came over TLS, directly or as the trusted proxy says (`X-Forwarded-Proto: https`). */
  readonly tls: boolean
  /** It carried credentials (an `Authorization` header). */
  readonly credentials: boolean
}

/**
 * Sets the edge's headers on `headers`, the answer to the request in `c` (any server, tests'
 * `app.request`): the same rules as `forNode`, which the edge's Node server uses.
 */
export const apply = (c: Context, headers: Headers, requestId: string, options: Options): void => {
  const facts = {
    tls: c.req.url.startsWith("https:") || forwardedHttps(c.req.header("X-Forwarded-Proto")),
    credentials: c.req.header("Authorization") !== undefined
  }
  const out = merged(facts, [...headers], requestId, options)
  for (const name of [...headers.keys()]) headers.delete(name)
  for (const [name, value] of Object.entries(out)) {
    if (Array.isArray(value)) for (const one of value) headers.append(name, one)
    else if (value !== undefined) headers.set(name, String(value))
  }
}

const text = (value: OutgoingHttpHeader): string => (Array.isArray(value) ? value.join(", ") : String(value))

/**
 * The headers to write for an answer to `request` whose route gave `headers` (a plain object, or
 * Node's raw `[name, value, ...]` list): a new object, `headers` itself is left as it was (a route
 * may pass the same constant object to every answer).
 */
export const forNode = (
  request: IncomingMessage,
  headers: OutgoingHttpHeaders | ReadonlyArray<OutgoingHttpHeader> | undefined | null,
  requestId: string,
  options: Options
): OutgoingHttpHeaders =>
  merged(
    {
      tls:
        (request.socket as { encrypted?: boolean } | null)?.encrypted === true ||
        forwardedHttps(request.headers["x-forwarded-proto"] as string | undefined),
      credentials: request.headers.authorization !== undefined
    },
    headers,
    requestId,
    options
  )

// What `merged` learns from the route's headers as it copies them.
interface Copying {
  readonly out: OutgoingHttpHeaders
  readonly debugHeaders: boolean
  html: boolean
  cacheControl: [string, OutgoingHttpHeader] | undefined
  // Only kept when the rule that would set them does not apply.
  kept: Array<[string, OutgoingHttpHeader]> | undefined
}

// A module function, not a closure per answer: under tsx (esbuild keepNames) each closure made
// costs a defineProperty, which showed in the /healthz profile (3% of the edge's CPU).
const copy = (state: Copying, name: string, value: OutgoingHttpHeader | undefined): void => {
  if (value === undefined) return
  switch (name.toLowerCase()) {
    case "x-request-id":
    case "x-content-type-options":
    case "referrer-policy":
      return
    case "x-data-source":
      if (!state.debugHeaders) return
      break
    case "content-type":
      state.html = text(value).startsWith("text/html")
      break
    case "cache-control":
      state.cacheControl = [name, value]
      return
    case "content-security-policy":
    case "x-frame-options":
    case "strict-transport-security":
      ;(state.kept ??= []).push([name, value])
      return
  }
  const out = state.out
  const previous = out[name]
  out[name] = previous === undefined ? value : [...[previous].flat(), ...[value].flat()].map(String)
}

/** The rules, once: the route's `headers` with the edge's, as a new object. */
const merged = (
  request: RequestFacts,
  headers: OutgoingHttpHeaders | ReadonlyArray<OutgoingHttpHeader> | ReadonlyArray<[string, string]> | undefined | null,
  requestId: string,
  options: Options
): OutgoingHttpHeaders => {
  const state: Copying = {
    out: {},
    debugHeaders: options.debugHeaders === true,
    html: false,
    cacheControl: undefined,
    kept: undefined
  }
  if (Array.isArray(headers)) {
    // Node's flat [name, value, name, value, ...] form, or [[name, value], ...].
    if (Array.isArray(headers[0]))
      for (const [name, value] of headers as unknown as Array<[string, string]>) copy(state, name, value)
    else for (let i = 0; i + 1 < headers.length; i += 2) copy(state, String(headers[i]), headers[i + 1])
  } else if (headers) for (const name in headers) copy(state, name, (headers as OutgoingHttpHeaders)[name])

  const { out, html, cacheControl, kept } = state
  const tls = request.tls
  out["X-Request-Id"] = requestId
  out["X-Content-Type-Options"] = "nosniff"
  out["Referrer-Policy"] = "no-referrer"
  for (const [name, value] of kept ?? []) {
    const lower = name.toLowerCase()
    if (!(lower === "strict-transport-security" ? tls : html)) out[name] = value
  }
  if (html) {
    out["Content-Security-Policy"] = contentSecurityPolicy
    out["X-Frame-Options"] = "DENY"
  }
  if (tls) out["Strict-Transport-Security"] = hsts
  if (request.credentials && !(cacheControl && text(cacheControl[1]).includes("no-store")))
    out["Cache-Control"] = "no-store"
  else if (cacheControl) out[cacheControl[0]] = cacheControl[1]
  return out
}
