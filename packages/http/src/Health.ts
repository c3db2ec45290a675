// Liveness and readiness. `/healthz` says the process serves HTTP and nothing more, so an
// orchestrator restarts us only when we are truly stuck, not when Redis blips. `/readyz` says
// whether we can do useful work: Redis and PostgreSQL each answer within a short timeout. Load
// balancers stop sending traffic while it answers 503.
import { Database } from "@bank/platform"
import { Redis } from "effect/persistence/Redis"
import { Duration, Effect, Exit } from "effect"
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
        if (failed.length === 0) return c.json({ status: "ok", checks })
        return problemResponse(c, {
          type: "not-ready",
          title: "Not ready",
          status: 503,
          detail: `Not answering: ${failed.join(", ")}.`,
          extensions: { checks }
        })
      })
    ))
}
