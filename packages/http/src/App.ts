// The Hono app. The edge only composes: each capability contributes its routes as a function
// of the app and `run`, and a table of its error tags as problems, e.g.
//
//   export const profileRoutes: Routes<Redis, ProblemTag> = (app, run) => {
//     app.get("/v1/profile", (c) => run(c, Effect.gen(function*() { ... })))
//   }
//
// and the edge's main.ts mounts them with the merged tables. Around the routes: one request step
// (RequestStep.ts: request id, body-size limit, response headers, request metrics), CORS when
// configured, problem+json for unknown routes and for anything a handler throws.
import type { Database, RedisTopology } from "@bank/platform"
import type { Redis } from "effect/persistence/Redis"
import { Effect, type Context, type Duration } from "effect"
import { Hono } from "hono"
import { bodyLimit } from "hono/body-limit"
import { cors } from "hono/cors"
import { HTTPException } from "hono/http-exception"
import { problemOf, type ProblemTable } from "./ErrorTable.ts"
import { healthRoutes } from "./Health.ts"
import { PayloadTooLarge, RouteNotFound } from "./HttpErrors.ts"
import { problemResponse, type EdgeEnv } from "./ProblemDetails.ts"
import { requestStep } from "./RequestStep.ts"
import { makeRun, type Run } from "./Run.ts"

/**
 * A capability's routes: registered on `app`, running their Effects through `run`, which
 * accepts failures tagged `Tag` (the capability's mapped tags) or the kit's own.
 */
export type Routes<R, Tag extends string = never> = (app: Hono<EdgeEnv>, run: Run<R, Tag>) => void

export interface AppOptions<R, P extends ProblemTable = Record<never, never>> {
  /** The services the routes' Effects run with; readiness needs Redis and Database. */
  readonly context: Context.Context<R | Redis | RedisTopology.RedisTopology | Database.Database>
  /** Every capability's error table, merged: a route failing with a tag missing here does not compile. */
  readonly problems?: P
  readonly routes?: ReadonlyArray<Routes<R, NoInfer<keyof P & string>>>
  /** Largest request body accepted, in bytes (default 64 KiB); larger ones get 413. */
  readonly bodyLimitBytes?: number
  /** How long each readiness check waits for its dependency (default 1 second). */
  readonly readinessTimeout?: Duration.Input
  /**
   * Origins of browser apps served elsewhere that may call the API (CORS); "*" for any. None:
   * no CORS headers, as for the app the edge serves itself.
   */
  readonly corsOrigins?: ReadonlyArray<string>
  /** Keep diagnostic headers such as X-Data-Source (default false; ResponseHeaders.ts). */
  readonly debugHeaders?: boolean
}

/** What a browser app may send and read across origins. */
const corsRequestHeaders = [
  "Authorization",
  "Content-Type",
  "Idempotency-Key",
  "Consistency-Token",
  "Last-Event-ID",
  "X-Request-Id"
]
const corsResponseHeaders = [
  "Consistency-Token",
  "Location",
  "Retry-After",
  "X-Request-Id",
  "X-Data-Source",
  "WWW-Authenticate"
]

export const defaultBodyLimitBytes = 64 * 1024

export const makeApp = <R, P extends ProblemTable = Record<never, never>>(options: AppOptions<R, P>): Hono<EdgeEnv> => {
  const problems: ProblemTable = options.problems ?? {}
  const run = makeRun(options.context, problems)
  const limitBytes = options.bodyLimitBytes ?? defaultBodyLimitBytes
  const app = new Hono<EdgeEnv>()

  const limitBody = bodyLimit({
    maxSize: limitBytes,
    onError: (c) => problemResponse(c, problemOf(problems, new PayloadTooLarge({ limitBytes })))
  })
  app.use(requestStep({ limitBody, debugHeaders: options.debugHeaders ?? false }))
  // Before everything else, the token check included: a preflight (OPTIONS) carries no token.
  if (options.corsOrigins !== undefined && options.corsOrigins.length > 0) {
    const origins = [...options.corsOrigins]
    app.use(
      cors({
        origin: origins.includes("*") ? "*" : origins,
        allowMethods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allowHeaders: corsRequestHeaders,
        exposeHeaders: corsResponseHeaders,
        maxAge: 600
      })
    )
  }

  healthRoutes({ readinessTimeout: options.readinessTimeout ?? "1 second" })(app, run)
  for (const routes of options.routes ?? []) routes(app, run)

  app.notFound((c) =>
    problemResponse(c, problemOf(problems, new RouteNotFound({ method: c.req.method, path: c.req.path })))
  )
  app.onError((error, c) => {
    // Hono's own 4xx (a middleware rejecting the request) keep their status.
    if (error instanceof HTTPException && error.status < 500) {
      return problemResponse(c, {
        type: "request-rejected",
        title: "Request rejected",
        status: error.status,
        detail: `The request was rejected (HTTP ${error.status}).`
      })
    }
    // Anything else a handler threw is a bug: `run` logs it and answers a bare 500.
    return run(c, Effect.die(error))
  })
  return app
}
