// The edge's token check: on every `/v1` route except login and refresh, the Bearer token must
// resolve (TokenCheck.ts, at most one Redis round trip) or the answer is 401 problem+json with
// `WWW-Authenticate: Bearer`. The principal is then on the Hono context as "principal" for the
// routes behind it (`principalOf(c)`).
//
// After the route answered, the request is recorded as session activity: a
// SessionActivityRecorded event on `session.events` ("GET /v1/sessions", its status), which the
// session projector turns into recentActions and a slid idle expiry. Publishing does not hold
// up the response, and the same action in one session within IDENTITY_ACTIVITY_COALESCE is
// recorded once, so a chatty client does not flood the stream.
//
// The edge mounts it where it can be seen, before the routes it guards:
//   app.use("/v1/*", Identity.tokenCheck(run))
import { Identity } from "@bank/contracts"
import type { EdgeEnv, Run } from "@bank/http"
import { StreamLog } from "@bank/platform"
import { Effect, Exit } from "effect"
import type { Context, MiddlewareHandler, Next } from "hono"
import { routePath } from "hono/route"
import { IdentityConfig } from "./IdentityConfig.ts"
import type { ProblemTag } from "./Problems.ts"
import { TokenCheck } from "./TokenCheck.ts"

/** Routes that must work without an access token. */
export const publicPaths: ReadonlySet<string> = new Set(["/v1/auth/login", "/v1/auth/refresh"])

export { principalOf } from "@bank/http"

const passed = new Response(null, { status: 204 })

/** Remembers recently recorded (session, action) pairs; bounded, oldest forgotten first. */
export const makeCoalescer = (windowMs: number, maxEntries = 50_000) => {
  const seen = new Map<string, number>()
  return (key: string, now: number): boolean => {
    if (windowMs <= 0) return true
    const last = seen.get(key)
    if (last !== undefined && now - last < windowMs) return false
    seen.delete(key)
    seen.set(key, now)
    if (seen.size > maxEntries) seen.delete(seen.keys().next().value!)
    return true
  }
}

/** The token check as Hono middleware, running its Effects through the edge's `run`. */
export const tokenCheck = <R>(
  run: Run<R | TokenCheck | IdentityConfig | StreamLog.StreamLog, ProblemTag>
): MiddlewareHandler => {
  let shouldRecord: ((key: string, now: number) => boolean) | undefined
  // The services, from the edge's context at the first request. A token whose record is in the
  // client-side cache is checked without any Effect run or round trip; a lookup runs its Effect
  // alone, and a failure goes through `run`, which maps it to the problem.
  let check: TokenCheck["Service"] | undefined

  return async (c: Context, next: Next) => {
    if (publicPaths.has(c.req.path)) return next()
    check ??= run.service(TokenCheck)
    shouldRecord ??= makeCoalescer(run.service(IdentityConfig).activityCoalesceMs)
    const authorization = c.req.header("Authorization")
    let principal = check.cachedPrincipal(authorization)
    let rejected = passed
    if (principal === undefined) {
      const exit = await Effect.runPromiseExit(check.resolve(authorization))
      if (Exit.isSuccess(exit)) principal = exit.value
      else rejected = await run(c, Effect.failCause(exit.cause))
    }
    if (principal === undefined) {
      const response = new Response(rejected.body, rejected)
      response.headers.set(
        "WWW-Authenticate",
        c.req.header("Authorization") ? 'Bearer error="invalid_token"' : "Bearer"
      )
      return response
    }
    ;(c as Context<EdgeEnv>).set("principal", principal)
    await next()

    const action = `${c.req.method} ${routePath(c, -1)}`
    const now = Date.now()
    if (!shouldRecord(`${principal.sessionId} ${action}`, now)) return
    const { customerId, sessionId } = principal
    const status = c.res.status
    void run(
      c,
      Effect.gen(function* () {
        const log = yield* StreamLog.StreamLog
        yield* Effect.forkDetach(
          log
            .publish(Identity.sessionEvents, {
              key: customerId,
              payload: {
                _tag: "SessionActivityRecorded",
                customerId,
                sessionId,
                action,
                status,
                at: new Date(now).toISOString()
              }
            })
            .pipe(Effect.catchCause((cause) => Effect.logWarning("session activity not recorded", cause)))
        )
        return passed
      })
    )
  }
}
