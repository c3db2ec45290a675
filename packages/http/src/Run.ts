// Runs Effect programs from Hono handlers with the services main.ts built:
//
//   app.get("/v1/profile", (c) => run(c, Effect.gen(function*() { ...; return c.json(profile) })))
//
// A typed failure becomes the problem its tag maps to (the kit's table in ErrorTable.ts or a
// capability's `problems`, merged by the edge); a defect becomes a bare
// 500. Both, when 5xx, are logged with their cause. Every log line of the program carries the
// request id, and a client that hangs up interrupts the program.
import { Cause, Effect, Option, type Context } from "effect"
import type { Context as HonoContext } from "hono"
import type { ServerResponse } from "node:http"
import { routePath } from "hono/route"
import { isMappedError, problemOf, type MappedError, type ProblemTable } from "./ErrorTable.ts"
import { internalErrorResponse, problemResponse, type EdgeEnv } from "./ProblemDetails.ts"

/**
 * Runs `effect` for the request in `c`. Its error tags must be the kit's (ErrorTable.ts) or
 * among `Tag`, the capability's own mapped tags: an unmapped tag does not compile.
 */
export type Run<R, Tag extends string = never> = <E extends MappedError<Tag>>(
  c: HonoContext<EdgeEnv>,
  effect: Effect.Effect<Response, E, R>
) => Promise<Response>

const respondToFailure = (table: ProblemTable, c: HonoContext<EdgeEnv>, cause: Cause.Cause<unknown>): Effect.Effect<Response> => {
  const error = Cause.findErrorOption(cause)
  if (Option.isSome(error) && isMappedError(table, error.value)) {
    const problem = problemOf(table, error.value)
    const response = problemResponse(c, problem)
    return problem.status >= 500 ? Effect.as(Effect.logError("Request failed", cause), response) : Effect.succeed(response)
  }
  return Effect.as(Effect.logError("Request failed unexpectedly", cause), internalErrorResponse(c))
}

/**
 * Aborts when the client hangs up before the response is sent. Served by @hono/node-server it
 * listens to the Node response, because `c.req.raw.signal` makes the adapter build a whole
 * Request for every call; elsewhere (tests' `app.request`) it is the request's own signal.
 */
const hangUpSignal = (c: HonoContext<EdgeEnv>): AbortSignal => {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing
  if (outgoing === undefined) return c.req.raw.signal
  const controller = new AbortController()
  outgoing.once("close", () => {
    if (!outgoing.writableFinished) controller.abort()
  })
  return controller.signal
}

/** `run` for these services, answering failures from `problems` (the edge's merged table). */
export const makeRun = <R>(context: Context.Context<R>, problems: ProblemTable): Run<R, string> => {
  const runPromise = Effect.runPromiseWith(context)
  return (c, effect) =>
    runPromise(
      effect.pipe(
        Effect.catchCause((cause) => respondToFailure(problems, c, cause)),
        Effect.annotateLogs({ requestId: c.get("requestId"), method: c.req.method, path: c.req.path }),
        Effect.withSpan(`${c.req.method} ${routePath(c)}`, undefined, { captureStackTrace: false })
      ),
      { signal: hangUpSignal(c) }
    // Only interruption gets here: the client hung up, so nobody reads this response.
    ).catch(() => internalErrorResponse(c))
}
