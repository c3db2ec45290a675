// Role checks for routes only some callers may use, e.g. the admin API:
//   app.use("/v1/admin/*", requireRole("admin"))
// Mounted after the token check (which puts the principal on the context); a caller without the
// role gets 403 problem+json and the route never runs. The roles come from the customer master
// through the token record, so a role taken away applies to live sessions at once.
import type { Principal } from "@bank/contracts"
import { Effect, Schema } from "effect"
import type { Context, MiddlewareHandler } from "hono"
import { kitProblems, problemOf } from "./ErrorTable.ts"
import { problemResponse, type EdgeEnv } from "./ProblemDetails.ts"

/** The caller lacks the role the route needs (403). */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  role: Schema.String
}) {}

export const hasRole = (principal: Principal | undefined, role: string): boolean =>
  principal?.roles.includes(role) ?? false

/** Hono middleware: the caller must have `role`, else 403 problem+json. */
export const requireRole =
  (role: string): MiddlewareHandler<EdgeEnv> =>
  async (c, next) => {
    if (!hasRole(c.get("principal"), role)) return problemResponse(c, problemOf(kitProblems, new Forbidden({ role })))
    await next()
  }

/** The same inside a route's Effect: the principal, or Forbidden. */
export const principalWithRole = (c: Context<EdgeEnv>, role: string): Effect.Effect<Principal, Forbidden> => {
  const principal = c.get("principal")
  return principal !== undefined && hasRole(principal, role)
    ? Effect.succeed(principal)
    : Effect.fail(new Forbidden({ role }))
}
