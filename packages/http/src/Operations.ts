// What a capability says about each of its routes, beside the routes themselves, so the OpenAPI
// document (OpenApiDocument.ts) is built from the same Schemas the routes decode with:
//
//   export const paymentsOperations: ReadonlyArray<Operation> = [
//     operation({ method: "post", path: "/v1/transfers", operationId: "createTransfer", ...,
//       requestBody: TransferRequest.Body, responses: { 202: { schema: TransferView } },
//       problems: ["InvalidIdempotencyKey", "IdempotencyKeyReused"] })
//   ]
//
// `problems` names error tags (the problem tables' keys; building the document fails on a tag
// no table maps); the document turns them into
// responses with their status and problem type. Every authenticated route gets 401 and every
// route the infrastructure problems without listing them.
import type { Schema } from "effect"

export type Method = "get" | "post" | "put" | "patch" | "delete"

export interface Parameter {
  readonly name: string
  readonly in: "path" | "query" | "header"
  readonly description: string
  readonly required?: boolean
  /** A string when absent. */
  readonly schema?: Schema.Top
}

export interface Header {
  readonly description: string
  readonly schema?: Schema.Top
}

export interface ResponseSpec {
  readonly description: string
  /** The JSON body; none for 204. */
  readonly schema?: Schema.Top
  /** Default application/json; `text/event-stream` for a stream. */
  readonly contentType?: string
  readonly headers?: Readonly<Record<string, Header>>
}

export interface Operation {
  readonly method: Method
  /** OpenAPI form: `/v1/transfers/{id}`. */
  readonly path: string
  readonly operationId: string
  readonly summary: string
  readonly description?: string
  readonly tag: string
  /** Needs a bearer access token (default: true for /v1 routes). */
  readonly authenticated?: boolean
  readonly parameters?: ReadonlyArray<Parameter>
  readonly requestBody?: Schema.Top
  readonly responses: Readonly<Record<number, ResponseSpec>>
  /** The error tags this route answers as problems, beyond the ones every route has. */
  readonly problems?: ReadonlyArray<string>
}

export const operation = (o: Operation): Operation => o

/** Hono's `/v1/transfers/:id` as OpenAPI's `/v1/transfers/{id}`. */
export const openApiPath = (honoPath: string): string => honoPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}")

/** The headers of read-your-writes (docs/api.md). */
export const consistencyTokenRequest: Parameter = {
  name: "Consistency-Token",
  in: "header",
  description:
    "A write's Consistency-Token: the answer waits until the document reflects that write (bounded; else 503 not-yet-consistent with Retry-After). Absent: answered at once."
}

export const consistencyTokenResponse: Readonly<Record<string, Header>> = {
  "Consistency-Token": {
    description:
      "Send it as the Consistency-Token request header of GET /v1/dashboard, /v1/profile or /v1/session to read this write."
  }
}
