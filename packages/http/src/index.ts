// @bank/http: the HTTP kit, knowing no capability. The Hono app factory with request ids, the
// body limit and problem+json for unknown routes (App.ts), `run` for Effect handlers (Run.ts),
// typed request bodies (RequestBody.ts), RFC 9457 problem details and the principal on the
// request (ProblemDetails.ts), the tables from error tag to problem with the kit's own entries
// (ErrorTable.ts, HttpErrors.ts), liveness and readiness (Health.ts) and the server with a
// graceful shutdown (EdgeServer.ts), the API's conventions as Schemas (ApiSchemas.ts), route
// descriptions and the OpenAPI document built from them with its docs pages (Operations.ts,
// OpenApiDocument.ts, DocsRoutes.ts), read-your-writes (ConsistencyToken.ts). Capabilities
// export routes, operations and problem tables built with it; only the edge composes them.
export { defaultBodyLimitBytes, makeApp, type AppOptions, type Routes } from "./App.ts"
export * as EdgeServer from "./EdgeServer.ts"
export {
  entry,
  kitProblems,
  problemOf,
  type Entry,
  type KitTag,
  type MappedError,
  type ProblemTable
} from "./ErrorTable.ts"
export {
  DuplicateKey,
  FieldError,
  InvalidBody,
  InvalidQuery,
  MalformedBody,
  PayloadTooLarge,
  RouteNotFound,
  UnsupportedMediaType
} from "./HttpErrors.ts"
export { principalOf, problemResponse, type EdgeEnv, type Problem } from "./ProblemDetails.ts"
export { plainResponse } from "./PlainResponse.ts"
export { decodeBody, fieldErrors } from "./RequestBody.ts"
export { type Run } from "./Run.ts"
export { LiveSessions, type LiveStream } from "./LiveSession.ts"
export { AccountId, DateOnly, DateTime, Money, Problem as ProblemSchema } from "./ApiSchemas.ts"
export * as ConsistencyToken from "./ConsistencyToken.ts"
export { docsRoutes, kitOperations, renderDocs } from "./DocsRoutes.ts"
export { InvalidConsistencyToken, NotYetConsistent } from "./HttpErrors.ts"
export * as OpenApiDocument from "./OpenApiDocument.ts"
export {
  consistencyTokenRequest,
  consistencyTokenResponse,
  type Operation,
  operation,
  openApiPath
} from "./Operations.ts"
export { Forbidden, hasRole, principalWithRole, requireRole } from "./Roles.ts"
export * as StepUp from "./StepUp.ts"
