// Headers every answer of the edge carries, set in one place after the route answered (by the
// request step, RequestStep.ts):
// - `X-Request-Id` (the client's own when it is short and plain, else one we made);
// - `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` on everything;
// - a restrictive `Content-Security-Policy` (and `X-Frame-Options: DENY`) on HTML;
// - `Strict-Transport-Security` when the request came over TLS (directly, or as the trusted
//   proxy in front says with `X-Forwarded-Proto: https`);
// - `Cache-Control: no-store` on every answer to a request that carried credentials (an
//   `Authorization` header), problems included, unless the route already forbade storing;
// - `X-Data-Source` (which store answered a read) only when debug headers are on
//   (HTTP_DEBUG_HEADERS=true): otherwise it tells an outsider about our internals.
import type { Context } from "hono"

export interface Options {
  /** Keep diagnostic headers such as X-Data-Source (default false). */
  readonly debugHeaders?: boolean
}

export const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; " +
  "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

/** Sets the edge's headers on `headers`, the answer to the request in `c`. */
export const apply = (c: Context, headers: Headers, requestId: string, options: Options): void => {
  headers.set("X-Request-Id", requestId)
  headers.set("X-Content-Type-Options", "nosniff")
  headers.set("Referrer-Policy", "no-referrer")
  if (headers.get("Content-Type")?.startsWith("text/html")) {
    headers.set("Content-Security-Policy", contentSecurityPolicy)
    headers.set("X-Frame-Options", "DENY")
  }
  const tls = c.req.url.startsWith("https:") || c.req.header("X-Forwarded-Proto")?.split(",")[0]?.trim() === "https"
  if (tls) headers.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
  if (c.req.header("Authorization") !== undefined && !(headers.get("Cache-Control") ?? "").includes("no-store")) {
    headers.set("Cache-Control", "no-store")
  }
  if (!options.debugHeaders) headers.delete("X-Data-Source")
}
