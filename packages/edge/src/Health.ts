// Liveness and readiness. `/healthz` says the process serves HTTP and nothing more, so an
// orchestrator restarts us only when we are truly stuck, not when Redis blips. `/readyz` says
// whether we can do useful work: Redis and PostgreSQL each answer within a short timeout. Load
// balancers stop sending traffic while it answers 503. On a Redis Cluster the Redis check is the
// cluster's own state (`cluster_state`) and how many slots have a master that answers: a shard
// failing over costs its customers a few seconds of 503 and is reported here, but does not take
// every edge out of service.
import { Database } from "@bank/platform/Database"
import { RedisTopology, type Health } from "@bank/platform/RedisTopology"
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
(app: Hono<EdgeEnv>, run: Run<RedisTopology | Database>): void => {
  app.get("/healthz", (c) => c.json({ status: "ok" }))

  app.get("/readyz", (c) =>
    run(
      c,
      Effect.gen(function*() {
        const topology = yield* RedisTopology
        const database = yield* Database
        let redisState: Health | undefined
        const checks = yield* Effect.all({
          redis: check(topology.health.pipe(
            Effect.tap((health) => Effect.sync(() => void (redisState = health))),
            Effect.filterOrFail((health) => health.ok, () => "not ok")
          ), options.readinessTimeout),
          postgres: check(database.ping, options.readinessTimeout)
        }, { concurrency: "unbounded" })
        const redis = redisState && {
          topology: redisState.topology,
          cluster_state: redisState.state,
          slots_covered: redisState.slotsCovered,
          masters: redisState.masters,
          ...(redisState.detail ? { detail: redisState.detail } : {})
        }
        const failed = Object.entries(checks).filter(([, result]) => result === "failed").map(([name]) => name)
        if (failed.length === 0) return c.json({ status: "ok", checks, redis })
        return problemResponse(c, {
          type: "not-ready",
          title: "Not ready",
          status: 503,
          detail: `Not answering: ${failed.join(", ")}.`,
          extensions: { checks, redis }
        })
      })
    ))
}
