// Liveness and readiness. `/healthz` says the process serves HTTP and nothing more, so an
// orchestrator restarts us only when we are truly stuck, not when Redis blips. `/readyz` says
// whether we can do useful work: Redis and PostgreSQL each answer within a short timeout, and,
// when a Readiness service is provided, every read model we serve from has loaded and is not
// lagging or marked stale (platform/Readiness.ts). Load balancers stop sending traffic while it
// answers 503; Retry-After says when to ask again. On a Redis Cluster the Redis check is the
// cluster's own state (`cluster_state`) and how many slots have a master that answers (both
// reported under `redis`): a shard failing over costs its customers a few seconds of 503, but
// does not take every edge out of service.
import { Database, Readiness, RedisTopology } from "@bank/platform"
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

export const healthRoutes =
  (options: { readonly readinessTimeout: Duration.Input }) =>
  (app: Hono<EdgeEnv>, run: Run<RedisTopology.RedisTopology | Database.Database>): void => {
    app.get("/healthz", (c) => c.json({ status: "ok" }))

    app.get("/readyz", (c) =>
      run(
        c,
        Effect.gen(function* () {
          const topology = yield* RedisTopology.RedisTopology
          const database = yield* Database.Database
          let redisState: RedisTopology.Health | undefined
          const checks = yield* Effect.all(
            {
              redis: check(
                topology.health.pipe(
                  Effect.tap((health) => Effect.sync(() => void (redisState = health))),
                  Effect.filterOrFail(
                    (health) => health.ok,
                    () => "not ok"
                  )
                ),
                options.readinessTimeout
              ),
              postgres: check(database.ping, options.readinessTimeout)
            },
            { concurrency: "unbounded" }
          )
          const redis = redisState && {
            topology: redisState.topology,
            cluster_state: redisState.state,
            slots_covered: redisState.slotsCovered,
            masters: redisState.masters,
            ...(redisState.detail ? { detail: redisState.detail } : {})
          }
          const failed = Object.entries(checks)
            .filter(([, result]) => result === "failed")
            .map(([name]) => name)
          const readiness = yield* Effect.serviceOption(Readiness.Readiness)
          const report =
            failed.includes("redis") || Option.isNone(readiness)
              ? undefined
              : yield* readiness.value.check.pipe(
                  Effect.timeout(options.readinessTimeout),
                  Effect.option,
                  Effect.map(Option.getOrUndefined)
                )
          const notReady = report ? Object.entries(report.readModels).filter(([, s]) => s.status !== "ready") : []
          if (Option.isSome(readiness) && report === undefined && !failed.includes("redis")) failed.push("read models")
          if (failed.length === 0 && notReady.length === 0)
            return c.json({ status: "ok", checks, redis, ...(report ? { readModels: report.readModels } : {}) })
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
            extensions: { checks, redis, ...(report ? { readModels: report.readModels } : {}) }
          })
        })
      )
    )
  }
