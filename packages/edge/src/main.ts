// The edge process: `node --import tsx packages/edge/src/main.ts` (processes.json). Reads PORT,
// BODY_LIMIT_BYTES, REDIS_URL, DATABASE_URL, CDC_SLOT and the IDENTITY_* variables (see
// .env.example). SIGTERM or SIGINT: the server stops accepting and finishes in-flight requests,
// then the Redis and PostgreSQL pools close.
import { Cdc } from "@bank/contracts"
import { EdgeServer } from "@bank/http"
import * as Identity from "@bank/identity"
import { Management, Process, Readiness } from "@bank/platform"
import { Effect, Layer } from "effect"
import { api, problems, readModels, servicesLayer } from "./Api.ts"

// The read models' readiness, backlog and reconciliation drift on the edge's /metrics.
const readModelMetrics = Layer.effectDiscard(
  Effect.gen(function* () {
    const management = yield* Management.Management
    const readiness = yield* Readiness.Readiness
    management.collect(readiness.prometheus.pipe(Effect.orElseSucceed(() => "")))
  })
)

Process.launch(
  { name: "edge", needs: ["redis", "postgres"] },
  Layer.merge(EdgeServer.layerConfig({ problems, routes: [api] }), readModelMetrics).pipe(
    Layer.provide(Readiness.layerConfig(readModels, Cdc.snapshotMarkerConfig)),
    Layer.provide(servicesLayer.pipe(Layer.provideMerge(Identity.IdentityConfig.layerConfig)))
  )
)
