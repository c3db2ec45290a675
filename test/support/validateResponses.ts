// Every end-to-end suite validates every answer of the edge against the OpenAPI document
// (/openapi.json, built in-process from the same Schemas): this setup file wraps `fetch`, so a
// suite cannot forget it. An answer that does not match fails the request's `await` with the
// reasons. Only the edge's answers (they carry X-Request-Id) from this machine's servers are
// checked; routes a suite mounts for itself under /test/ are not the API; event streams are
// checked up to their media type.
import * as Api from "@bank/edge"
import { compileDocument } from "@bank/http/testing"

const validator = compileDocument(Api.document as Record<string, unknown>)
const original = globalThis.fetch

/** How many answers were validated in this test file (a suite that validated none is suspect). */
export const validated = { count: 0 }

export class ResponseMismatch extends Error {}

globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
  const response = await original(input, init)
  const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url)
  const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase()
  if (
    !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname) ||
    url.pathname.startsWith("/test/") ||
    method === "OPTIONS" ||
    method === "HEAD"
  ) {
    return response
  }
  // Only the edge's answers: it stamps every one with X-Request-Id (the processes' management
  // ports, Prometheus and stand-in servers do not).
  if (!response.headers.has("x-request-id")) return response
  const contentType = response.headers.get("content-type")
  const streaming = contentType?.startsWith("text/event-stream") ?? false
  const body = streaming ? undefined : await response.clone().text()
  const verdict = validator.check(method, url.pathname, response.status, contentType, body)
  validated.count++
  if (verdict.errors.length > 0)
    throw new ResponseMismatch(
      `The answer does not match /openapi.json:\n${verdict.errors.join("\n")}\n${body?.slice(0, 2000) ?? ""}`
    )
  return response
}
