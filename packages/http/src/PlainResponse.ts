// An answer whose headers stay the plain object they were given, for a read route's hot path:
//
//   return plainResponse(text, documentHeaders)   // in place of c.body(text, 200, documentHeaders)
//
// Hono's c.body with two or more headers builds a Fetch `Headers` for them, which the Node
// adapter then iterates back into an object: on a small answer that costs about as much as
// the rest of Hono (scripts/bench/edgeStep.ts measured materializing one at ~3 µs a request).
// The edge's request step adds its headers as the answer is written (NodeResponse.ts), and
// Hono still merges any header a middleware set on `c.res` before the route. Only headers set
// with `c.header` before any `c.res` existed would be lost, so a route that calls `c.header`
// on the way answers with `c.body` as usual. `headers` is never modified (a route may share
// one constant object between answers).
export const plainResponse = (
  body: string,
  headers: Readonly<Record<string, string>>,
  status: 200 | 201 | 202 = 200
): Response => new Response(body, { status, headers: headers as Record<string, string> })
