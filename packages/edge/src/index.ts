// The HTTP edge: the only package that knows HTTP. It composes the capabilities' routes into
// one Hono app (App.ts), runs their Effects with the process's services (Run.ts), decodes
// request bodies with Schemas (RequestBody.ts), maps every error tag to a problem+json response
// (ErrorTable.ts, ProblemDetails.ts), answers liveness and readiness (Health.ts) and serves it
// all with a graceful shutdown (EdgeServer.ts, main.ts).
export { defaultBodyLimitBytes, makeApp, type AppOptions, type Routes } from "./App.ts"
export { EdgeServer, layer, layerConfig, ListenError, type ServeOptions } from "./EdgeServer.ts"
export { errorTable, problemOf, type MappedError, type MappedTag } from "./ErrorTable.ts"
export { FieldError, InvalidBody, MalformedBody, PayloadTooLarge, RouteNotFound, UnsupportedMediaType } from "./HttpErrors.ts"
export { principalOf, problemResponse, type EdgeEnv, type Problem } from "./ProblemDetails.ts"
export { decodeBody } from "./RequestBody.ts"
export { type Run } from "./Run.ts"
