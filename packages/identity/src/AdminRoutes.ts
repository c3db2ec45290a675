// The admin API, for the bank's staff (callers with the `admin` role; a customer gets 403):
//   GET    /v1/admin/customers/{customerId}/sessions              → a customer's live sessions
//   DELETE /v1/admin/customers/{customerId}/sessions              → 200 {ended}: every session ends
//   DELETE /v1/admin/customers/{customerId}/sessions/{sessionId}  → 204, or 404 when not live
//   POST   /v1/admin/lockouts/{username}/unlock                   → 200 {wasLocked}
//   GET    /v1/admin/customers/{customerId}/audit?limit=100       → the customer's newest audit
//                                                                    events (identity.audit)
// Every call, reads too, is itself audited (`AdminActionTaken` with the admin, the action, the
// status and the target). Changes go to the identity actor like every other identity change;
// sessions ended here are audited `SessionRevoked` reason `AdminRevoked` and their live streams
// told "admin-revoked". The audit read scans the newest AUDIT_SCAN entries of the shared stream
// (the security team's log pipeline holds the whole history).
import { Identity } from "@bank/contracts"
import { InvalidQuery, principalWithRole, type Routes } from "@bank/http"
import { Keys, type RawEntry } from "@bank/platform"
import { Effect } from "effect"
import { Redis } from "effect/persistence/Redis"
import type { Context } from "hono"
import { routePath } from "hono/route"
import * as Audit from "./Audit.ts"
import * as ClientAddress from "./ClientAddress.ts"
import { SessionNotFound } from "./Errors.ts"
import { IdentityConfig } from "./IdentityConfig.ts"
import type { ProblemTag } from "./Problems.ts"
import { ask, type Services, sessionsOf } from "./Routes.ts"

const CUSTOMER_ID = /^[1-9][0-9]{0,18}$/
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const USERNAME = /^[A-Za-z0-9._-]{1,64}$/
/** Audit entries scanned (newest first) for one customer's trail. */
const AUDIT_SCAN = 50_000

const notFound = (what: string) => new SessionNotFound({ sessionId: what.slice(0, 64) })

export const adminRoutes: Routes<Services, ProblemTag> = (app, run) => {
  /** Runs an admin call: the role first, then `body`, then its audit record whatever the outcome. */
  const admin = <E>(
    c: Context,
    target: { readonly customerId?: string; readonly username?: string },
    body: Effect.Effect<Response, E, Services>
  ) =>
    run(
      c,
      Effect.gen(function* () {
        const principal = yield* principalWithRole(c, "admin")
        const config = yield* IdentityConfig
        const action = `${c.req.method} ${routePath(c, -1)}`
        const record = (status: number) =>
          Audit.record({
            _tag: "AdminActionTaken",
            byCustomerId: principal.customerId,
            bySessionId: principal.sessionId,
            action,
            status,
            ...(target.customerId !== undefined && CUSTOMER_ID.test(target.customerId)
              ? { customerId: target.customerId }
              : {}),
            ...(target.username !== undefined && USERNAME.test(target.username) ? { username: target.username } : {}),
            clientAddress: ClientAddress.of(c, config.trustedProxyHops).slice(0, 64)
          }).pipe(Effect.ignore)
        return yield* body.pipe(
          Effect.tap((response) => record(response.status)),
          Effect.tapError(() => record(400))
        )
        // The bodies below fail only with mapped tags (identity's and the kit's); TypeScript cannot
        // carry that through this generic helper, so the check is the routes' own.
      }) as Effect.Effect<Response, { readonly _tag: ProblemTag }, Services>
    )

  app.get("/v1/admin/customers/:customerId/sessions", (c) =>
    admin(
      c,
      { customerId: c.req.param("customerId") },
      Effect.gen(function* () {
        const customerId = c.req.param("customerId")
        if (!CUSTOMER_ID.test(customerId)) return yield* notFound(customerId)
        return c.json({ sessions: yield* sessionsOf(customerId) })
      })
    )
  )

  app.delete("/v1/admin/customers/:customerId/sessions", (c) =>
    admin(
      c,
      { customerId: c.req.param("customerId") },
      Effect.gen(function* () {
        const customerId = c.req.param("customerId")
        if (!CUSTOMER_ID.test(customerId)) return yield* notFound(customerId)
        const { customerId: byCustomerId, sessionId: bySessionId } = yield* principalWithRole(c, "admin")
        const reply = yield* ask(customerId, { _tag: "AdminEndSessions", customerId, byCustomerId, bySessionId })
        return c.json({ ended: reply._tag === "SessionsRevoked" ? reply.count : 0 })
      })
    )
  )

  app.delete("/v1/admin/customers/:customerId/sessions/:sessionId", (c) =>
    admin(
      c,
      { customerId: c.req.param("customerId") },
      Effect.gen(function* () {
        const customerId = c.req.param("customerId")
        const sessionId = c.req.param("sessionId")
        if (!CUSTOMER_ID.test(customerId) || !SESSION_ID.test(sessionId)) return yield* notFound(sessionId)
        const { customerId: byCustomerId, sessionId: bySessionId } = yield* principalWithRole(c, "admin")
        const reply = yield* ask(customerId, {
          _tag: "AdminEndSessions",
          customerId,
          sessionId,
          byCustomerId,
          bySessionId
        })
        if (reply._tag !== "SessionsRevoked" || reply.count === 0) return yield* notFound(sessionId)
        return c.body(null, 204)
      })
    )
  )

  app.post("/v1/admin/lockouts/:username/unlock", (c) =>
    admin(
      c,
      { username: c.req.param("username") },
      Effect.gen(function* () {
        const username = c.req.param("username")
        if (!USERNAME.test(username)) {
          return yield* new InvalidQuery({ errors: [{ path: "/username", message: "is not a username" }] })
        }
        const { customerId: byCustomerId, sessionId: bySessionId } = yield* principalWithRole(c, "admin")
        const reply = yield* ask(`unlock:${username}`, { _tag: "AdminUnlock", username, byCustomerId, bySessionId })
        return c.json({ wasLocked: reply._tag === "Unlocked" && reply.wasLocked })
      })
    )
  )

  app.get("/v1/admin/customers/:customerId/audit", (c) =>
    admin(
      c,
      { customerId: c.req.param("customerId") },
      Effect.gen(function* () {
        const customerId = c.req.param("customerId")
        if (!CUSTOMER_ID.test(customerId)) return yield* notFound(customerId)
        const limitText = c.req.query("limit") ?? "100"
        const limit = Number(limitText)
        if (!/^[0-9]{1,4}$/.test(limitText) || limit < 1 || limit > 1000) {
          return yield* new InvalidQuery({ errors: [{ path: "/limit", message: "must be 1 to 1000" }] })
        }
        const redis = yield* Redis
        const key = Keys.stream(Identity.audit.name)
        const events: Array<unknown> = []
        let end = "+"
        let scanned = 0
        while (events.length < limit && scanned < AUDIT_SCAN) {
          const page = yield* redis.send<ReadonlyArray<RawEntry>>("XREVRANGE", key, end, "-", "COUNT", "1000")
          for (const [id, fields] of page) {
            const data = fields[fields.indexOf("data") + 1]
            const event = data ? (JSON.parse(data) as Record<string, unknown>) : undefined
            if (event?.customerId === customerId && events.length < limit) events.push({ id, ...event })
          }
          scanned += page.length
          if (page.length < 1000) break
          end = `(${page.at(-1)![0]}`
        }
        return c.json({ events })
      })
    )
  )
}
