// Runs Effect programs from Hono handlers with the services main.ts built:
//
//   app.get("/v1/profile", (c) => run(c, Effect.gen(function*() { ...; return c.json(profile) })))
//
// A typed failure becomes the problem its tag maps to (the kit's table in ErrorTable.ts or a
// capability's `problems`, merged by the edge); a defect becomes a bare
// 500. Both, when 5xx, are logged with their cause. Every log line of the program carries the
// request id, and a client that hangs up interrupts the program.
//
// A route whose answer needs no I/O (a document in a client-side cache) may answer without an
// Effect run: `run.service(Tag)` hands it a service synchronously, e.g.
//
//   const text = run.traced ? undefined : run.service(DashboardDocuments).peek(customerId)
//   if (text !== undefined) return c.body(text, 200, headers)
//   return run(c, ...)  // the general path: misses, failures, everything with I/O
import { Cause, Context, Effect, Exit, Option, Tracer, type Fiber } from "effect"
import type { Context as HonoContext } from "hono"
import type { ServerResponse } from "node:http"
import { routePath } from "hono/route"
import { Tracing } from "@bank/platform"
import { isMappedError, problemOf, type MappedError, type ProblemTable } from "./ErrorTable.ts"
import { internalErrorResponse, problemResponse, type EdgeEnv } from "./ProblemDetails.ts"

/**
 * Runs `effect` for the request in `c`. Its error tags must be the kit's (ErrorTable.ts) or
 * among `Tag`, the capability's own mapped tags: an unmapped tag does not compile.
 */
export interface Run<R, Tag extends string = never> {
  <E extends MappedError<Tag>>(
    c: HonoContext<EdgeEnv>,
    effect: Effect.Effect<Response, E, R>
  ): Response | Promise<Response>
  /** A service the Effects run with, synchronously (the same instance `yield*` gives them). */
  readonly service: <I extends R, S>(key: Context.Key<I, S>) => S
  /**
   * Whether spans leave the process (a tracer other than Effect's in-memory one). A route's
   * fast path runs no Effect and so makes no span: it is taken only while this is false.
   */
  readonly traced: boolean
}

const respondToFailure = (
  table: ProblemTable,
  c: HonoContext<EdgeEnv>,
  cause: Cause.Cause<unknown>
): Effect.Effect<Response> => {
  const error = Cause.findErrorOption(cause)
  if (Option.isSome(error) && isMappedError(table, error.value)) {
    const problem = problemOf(table, error.value)
    const response = problemResponse(c, problem)
    return problem.status >= 500
      ? Effect.as(Effect.logError("Request failed", cause), response)
      : Effect.succeed(response)
  }
  return Effect.as(Effect.logError("Request failed unexpectedly", cause), internalErrorResponse(c))
}

/**
 * Interrupts `fiber` when the client hangs up before the response is sent. Served by
 * @hono/node-server it listens to the Node response, because `c.req.raw.signal` makes the adapter
 * build a whole Request for every call; elsewhere (tests' `app.request`) it is the request's own
 * signal.
 */
const interruptOnHangUp = (c: HonoContext<EdgeEnv>, fiber: Fiber.Fiber<Response>): void => {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing
  if (outgoing === undefined) {
    const signal = c.req.raw.signal
    const abort = () => fiber.interruptUnsafe()
    signal.addEventListener("abort", abort, { once: true })
    fiber.addObserver(() => signal.removeEventListener("abort", abort))
    return
  }
  const onClose = () => {
    if (!outgoing.writableFinished) fiber.interruptUnsafe()
  }
  outgoing.once("close", onClose)
  fiber.addObserver(() => outgoing.off("close", onClose))
}

/** `run` for these services, answering failures from `problems` (the edge's merged table). */
export const makeRun = <R>(context: Context.Context<R>, problems: ProblemTable): Run<R, string> => {
  const runFork = Effect.runForkWith(context)
  const run = (c: HonoContext<EdgeEnv>, effect: Effect.Effect<Response, unknown, R>) => {
    // Forked directly (no promise from the runtime, no AbortController): the fiber runs
    // synchronously as far as it can, and a route that needs no I/O answers without a promise.
    const fiber = runFork(
      effect.pipe(
        Effect.catchCause((cause) => respondToFailure(problems, c, cause)),
        Effect.annotateLogs({ requestId: c.get("requestId"), method: c.req.method, path: c.req.path }),
        // An inbound W3C `traceparent` makes this request's span part of the caller's trace.
        Effect.withSpan(
          `${c.req.method} ${routePath(c)}`,
          { parent: Tracing.parentOf(c.req.header("traceparent")) },
          { captureStackTrace: false }
        )
      )
    )
    const done = fiber.pollUnsafe()
    // Only interruption fails here: the client hung up, so nobody reads this response.
    if (done !== undefined) return Exit.isSuccess(done) ? done.value : internalErrorResponse(c)
    interruptOnHangUp(c, fiber)
    return new Promise<Response>((resolve) => {
      fiber.addObserver((exit) => resolve(Exit.isSuccess(exit) ? exit.value : internalErrorResponse(c)))
    })
  }
  return Object.assign(run, {
    service: <I extends R, S>(key: Context.Key<I, S>): S => Context.get(context as Context.Context<I>, key),
    traced: Context.get(context as Context.Context<never>, Tracer.Tracer) !== Tracer.nativeTracer
  })
}
