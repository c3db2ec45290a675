// The edge as main.ts composes it (the edge's Hono app with request ids, body limit, problem
// details and Effect runtime; the identity routes with the token check on every /v1 route; the
// same Redis and PostgreSQL layers), plus routes that exist only to be measured:
//   GET /bench/noop        a no-op through the edge's app and `run`, outside /v1: no token check
//   GET /v1/bench/noop     the same no-op behind the token check
//   GET /v1/bench/dashboard-pg   the caller's dashboard assembled straight from PostgreSQL
//                                (@bank/dashboard's PgDashboard), what a bank without the read
//                                model does on every app open; 404 while that package is missing
// Comparing the two isolates what the token check costs; comparing /bench/noop with the plain
// Hono server isolates what the edge's own middleware costs. IDENTITY_TOKEN_CACHE picks the
// direct or the client-side-cached token lookup, as in the edge. Prints `listening <port>`.
import { EdgeServer } from "@bank/http"
import type { Routes } from "@bank/http"
import * as Identity from "@bank/identity"
import { Database, RedisClient } from "@bank/platform"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer } from "effect"
import type { Redis } from "effect/persistence/Redis"

type Services = Redis | RedisClient.RedisTopology | Database.Database | Identity.RouteServices

const PgDashboard = (await import("@bank/dashboard").catch(() => undefined))?.PgDashboard

const probeRoutes: Routes<Services, never> = (app, run) => {
  app.get("/bench/noop", (c) =>
    run(
      c,
      Effect.sync(() => c.json({ ok: true }))
    )
  )
  app.get("/v1/bench/noop", (c) =>
    run(
      c,
      Effect.sync(() => c.json({ ok: true }))
    )
  )
  if (PgDashboard) {
    const assemble = PgDashboard.assemble
    app.get("/v1/bench/dashboard-pg", (c) =>
      run(
        c,
        Effect.gen(function* () {
          const { customerId } = Identity.principalOf(c)
          const document = yield* assemble(customerId)
          return c.json({ ...document, asOf: new Date().toISOString() })
        })
      )
    )
  }
}

const routes: ReadonlyArray<Routes<Services, Identity.ProblemTag>> = [
  (app, run) => {
    app.use("/v1/*", Identity.tokenCheck(run))
  },
  Identity.identityRoutes,
  probeRoutes
]

const program = Effect.gen(function* () {
  const server = yield* EdgeServer.EdgeServer
  yield* Effect.sync(() => console.log(`listening ${server.port}`))
  return yield* Effect.never
})

program.pipe(
  Effect.provide(
    EdgeServer.layer({ port: 0, hostname: "127.0.0.1", problems: Identity.problems, routes }).pipe(
      Layer.provide(Identity.edgeLayer.pipe(Layer.provideMerge(Identity.IdentityConfig.layerConfig))),
      Layer.provide(Layer.mergeAll(RedisClient.layerConfig, Database.layerConfig))
    )
  ),
  NodeRuntime.runMain
)
