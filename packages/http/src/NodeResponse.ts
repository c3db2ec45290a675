// The edge's answer on Node (EdgeServer.ts serves with it): a ServerResponse that finishes the
// request step's work when the status line and headers are written. The request step
// (RequestStep.ts) leaves what it knows before the route runs here (`pending`: the request id,
// the route pattern, when the request arrived); whatever then answers (a route, a problem, a
// rejection, the adapter's own 500) reaches Node through `writeHead`, where the edge's headers
// (ResponseHeaders.forNode) go onto the plain header object @hono/node-server hands over and the
// request's duration is recorded (RequestMetrics.ts). So the step adds no work after the route,
// and the answer never needs a Fetch `Headers`: on a small answer those cost more than the rest
// of the edge's step together (scripts/bench/edgeStep.ts).
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from "node:http"
import * as RequestMetrics from "./RequestMetrics.ts"
import * as ResponseHeaders from "./ResponseHeaders.ts"

export interface Pending {
  readonly requestId: string
  readonly method: string
  /** The pattern of the route that will answer (RequestMetrics.routeOf), known once routed. */
  readonly route: string
  /** performance.now() when the request step began. */
  readonly started: number
  readonly options: ResponseHeaders.Options
}

/** What Node's writeHead takes as headers. */
export type NodeHeaders = OutgoingHttpHeaders | Array<OutgoingHttpHeader>

export class EdgeResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** Set by the request step; applied once, by the first `writeHead` (explicit or implicit). */
  pending: Pending | undefined = undefined

  override writeHead(statusCode: number, statusMessage?: string | NodeHeaders, headers?: NodeHeaders): this {
    const pending = this.pending
    const given = typeof statusMessage === "string" ? headers : statusMessage
    if (pending === undefined) {
      return typeof statusMessage === "string"
        ? super.writeHead(statusCode, statusMessage, given)
        : super.writeHead(statusCode, given)
    }
    this.pending = undefined
    const merged = ResponseHeaders.forNode(this.req, given, pending.requestId, pending.options)
    RequestMetrics.record(pending.method, pending.route, statusCode, (performance.now() - pending.started) / 1000)
    return typeof statusMessage === "string"
      ? super.writeHead(statusCode, statusMessage, merged)
      : super.writeHead(statusCode, merged)
  }
}
