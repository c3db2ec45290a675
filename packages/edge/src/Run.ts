// Runs Effect programs from Hono handlers with the services main.ts built:
//
//   app.get("/v1/profile", (c) => run(c, Effect.gen(function*() { ...; return c.json(profile) })))
//
// A typed failure becomes the problem its tag maps to (ErrorTable.ts); a defect becomes a bare
// 500. Both, when 5xx, are logged with their cause. Every log line of the program carries the
// request id, and a client that hangs up interrupts the program.
import { Cause, Effect, Option, type Context } from "effect"
import type { Context as HonoContext } from "hono"
import { routePath } from "hono/route"
import { isMappedError, problemOf, type MappedError } from "./ErrorTable.ts"
import { internalErrorResponse, problemResponse, type EdgeEnv } from "./ProblemDetails.ts"

/**
 * Runs `effect` for the request in `c`. Its error type must be mapped in ErrorTable.ts: an
 * unmapped tag does not compile.
 */
export type Run<R> = <E extends MappedError>(
  c: HonoContext<EdgeEnv>,
  effect: Effect.Effect<Response, E, R>
) => Promise<Response>

const respondToFailure = (c: HonoContext<EdgeEnv>, cause: Cause.Cause<unknown>): Effect.Effect<Response> => {
  const error = Cause.findErrorOption(cause)
  if (Option.isSome(error) && isMappedError(error.value)) {
    const problem = problemOf(error.value)
    const response = problemResponse(c, problem)
    return problem.status >= 500 ? Effect.as(Effect.logError("Request failed", cause), response) : Effect.succeed(response)
  }
  return Effect.as(Effect.logError("Request failed unexpectedly", cause), internalErrorResponse(c))
}

export const makeRun = <R>(context: Context.Context<R>): Run<R> => {
  const runPromise = Effect.runPromiseWith(context)
  return (c, effect) =>
    runPromise(
      effect.pipe(
        Effect.catchCause((cause) => respondToFailure(c, cause)),
        Effect.annotateLogs({ requestId: c.get("requestId"), method: c.req.method, path: c.req.path }),
        Effect.withSpan(`${c.req.method} ${routePath(c)}`)
      ),
      { signal: c.req.raw.signal }
    // Only interruption gets here: the client hung up, so nobody reads this response.
    ).catch(() => internalErrorResponse(c))
}
