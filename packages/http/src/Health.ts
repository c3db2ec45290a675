// Liveness and readiness. `/healthz` says the process serves HTTP and nothing more, so an
// orchestrator restarts us only when we are truly stuck, not when Redis blips. `/readyz` says
// whether we can do useful work: Redis and PostgreSQL each answer within a short timeout, and,
// when a Readiness service is provided, every read model we serve from has loaded and is not
// lagging or marked stale (platform/Readiness.ts). Load balancers stop sending traffic while it
// answers 503; Retry-After says when to ask again.
import { Database, Readiness } from "@bank/platform"
import { Redis } from "effect/persistence/Redis"
import { Duration, Effect, Exit, Option } from "effect"
import type { Hono } from "hono"
import { problemResponse, type EdgeEnv } from "./ProblemDetails.ts"
import type { Run } from "./Run.ts"

export type Check = "ok" | "failed"

const check = (probe: Effect.Effect<unknown, unknown>, timeout: Duration.Input): Effect.Effect<Check> =>
  probe.pipe(
    Effect.timeout(timeout),
    Effect.exit,
    Effect.map((exit): Check => (Exit.isSuccess(exit) ? "ok" : "failed"))
  )

/** Seconds a client should wait before asking /readyz again (or retrying a login) while not ready. */
export const retryAfterSeconds = 2

export const healthRoutes = (options: { readonly readinessTimeout: Duration.Input }) =>
(app: Hono<EdgeEnv>, run: Run<Redis | Database.Database>): void => {
  app.get("/healthz", (c) => c.json({ status: "ok" }))

  app.get("/readyz", (c) =>
    run(
      c,
      Effect.gen(function*() {
        const redis = yield* Redis
        const database = yield* Database.Database
        const checks = yield* Effect.all({
          redis: check(redis.send("PING"), options.readinessTimeout),
          postgres: check(database.ping, options.readinessTimeout)
        }, { concurrency: "unbounded" })
        const failed = Object.entries(checks).filter(([, result]) => result === "failed").map(([name]) => name)
        const readiness = yield* Effect.serviceOption(Readiness.Readiness)
        const report = failed.includes("redis") || Option.isNone(readiness)
          ? undefined
          : yield* readiness.value.check.pipe(Effect.timeout(options.readinessTimeout), Effect.option, Effect.map(Option.getOrUndefined))
        const notReady = report ? Object.entries(report.readModels).filter(([, s]) => s.status !== "ready") : []
        if (Option.isSome(readiness) && report === undefined && !failed.includes("redis")) failed.push("read models")
        if (failed.length === 0 && notReady.length === 0) return c.json({ status: "ok", checks, ...(report ? { readModels: report.readModels } : {}) })
        c.header("Retry-After", String(retryAfterSeconds))
        const reasons = [
          ...(failed.length > 0 ? [`not answering: ${failed.join(", ")}`] : []),
          ...notReady.map(([name, s]) => `${name} ${s.status}${s.behind > 0 ? ` (${s.behind} entries behind)` : ""}`)
        ]
        return problemResponse(c, {
          type: "not-ready",
          title: "Not ready",
          status: 503,
          detail: `${reasons.join("; ")}.`.replace(/^./, (first) => first.toUpperCase()),
          extensions: { checks, ...(report ? { readModels: report.readModels } : {}) }
        })
      })
    ))
}
