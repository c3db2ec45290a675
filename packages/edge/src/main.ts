// The edge process: `node --import tsx packages/edge/src/main.ts` (npm start runs it).
// Reads PORT, BODY_LIMIT_BYTES, REDIS_URL and DATABASE_URL (see .env.example). SIGTERM or
// SIGINT interrupts it: the server stops accepting and finishes in-flight requests, then the
// Redis and PostgreSQL pools close.
import * as Dashboard from "@bank/dashboard"
import * as Identity from "@bank/identity"
import * as Database from "@bank/platform/Database"
import * as Readiness from "@bank/platform/Readiness"
import * as CdcConnector from "@bank/records/cdc/CdcConnector"
import * as RedisClient from "@bank/platform/RedisClient"
import * as Profile from "@bank/profile"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Layer } from "effect"
import * as Api from "./Api.ts"
import * as EdgeServer from "./EdgeServer.ts"

// Every capability's routes and the API's documents (Api.ts); their Effects use the services
// provided below.
const routes = Api.routes()

// Every read model the routes serve from: /readyz answers 503 until each has loaded.
const readModels = [
  Identity.CredentialsProjection.readModel,
  Identity.SessionProjector.readModel,
  Dashboard.DashboardProjector.readModelSource,
  Profile.ProfileProjector.readModelSource
]

EdgeServer.layerConfig({ routes }).pipe(
  Layer.provide(Readiness.layerConfig(readModels, CdcConnector.snapshotMarkerConfig)),
  Layer.provide(Identity.edgeLayer.pipe(Layer.provideMerge(Identity.IdentityConfig.layerConfig))),
  Layer.provide(Layer.mergeAll(Dashboard.edgeLayer, Profile.edgeLayer)),
  Layer.provide(Layer.mergeAll(RedisClient.layerConfig, Database.layerConfig)),
  Layer.launch,
  NodeRuntime.runMain
)
