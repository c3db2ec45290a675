// The edge process: `node --import tsx packages/edge/src/main.ts` (npm start runs it).
// Reads PORT, BODY_LIMIT_BYTES, REDIS_URL and DATABASE_URL (see .env.example). SIGTERM or
// SIGINT interrupts it: the server stops accepting and finishes in-flight requests, then the
// Redis and PostgreSQL pools close.
import * as Dashboard from "@bank/dashboard"
import * as Identity from "@bank/identity"
import { paymentsRoutes } from "@bank/payments"
import * as Database from "@bank/platform/Database"
import * as Readiness from "@bank/platform/Readiness"
import * as CdcConnector from "@bank/records/cdc/CdcConnector"
import * as RedisClient from "@bank/platform/RedisClient"
import { prefetchRoutes } from "@bank/prefetch"
import * as Profile from "@bank/profile"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Layer } from "effect"
import type { Redis } from "effect/persistence/Redis"
import type { Routes } from "./App.ts"
import { deadLetterRoutes } from "./DeadLetterRoutes.ts"
import * as EdgeServer from "./EdgeServer.ts"

// Each capability's routes, e.g. `profileRoutes` from @bank/profile. Their Effects may use the
// services provided below. Identity comes first: its token check guards every /v1 route
// registered after it.
type Services = Redis | RedisClient.NodeRedis.NodeRedis | Database.Database | Identity.RouteServices | Dashboard.RouteServices | Profile.RouteServices
const routes: ReadonlyArray<Routes<Services>> = [Identity.identityRoutes, paymentsRoutes, prefetchRoutes, Dashboard.dashboardRoutes(), Profile.profileRoutes, deadLetterRoutes]

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
