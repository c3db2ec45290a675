// The composition root's one job: every capability's routes behind the token check, and their
// problem tables merged. The token check is mounted here, in front of the paths it guards,
// where a reader sees it; a capability's route that fails with a tag missing from `problems`
// does not compile.
import * as Dashboard from "@bank/dashboard"
import { type Routes, StepUp } from "@bank/http"
import * as Identity from "@bank/identity"
import * as Payments from "@bank/payments"
import type { Database, RedisClient } from "@bank/platform"
import * as Prefetch from "@bank/prefetch"
import * as Profile from "@bank/profile"
import { Layer } from "effect"
import { deadLetterRoutes } from "./DeadLetterRoutes.ts"
import type { Redis } from "effect/persistence/Redis"

/** Every capability's error tags as problems. */
export const problems = {
  ...Identity.problems,
  ...Payments.problems,
  ...Prefetch.problems,
  ...Dashboard.problems,
  ...Profile.problems
}

/** The services the routes' Effects use. */
export type Services =
  | Redis
  | RedisClient.RedisTopology
  | Database.Database
  | Identity.RouteServices
  | Payments.RouteServices
  | Prefetch.RouteServices
  | Dashboard.RouteServices
  | Profile.RouteServices

export const api: Routes<Services, keyof typeof problems> = (app, run) => {
  // Every /v1 route needs a bearer access token, except login and refresh (Identity.publicPaths).
  app.use("/v1/*", Identity.tokenCheck(run))
  Identity.identityRoutes(app, run)
  Identity.adminRoutes(app, run)
  Payments.paymentsRoutes(app, run)
  Prefetch.prefetchRoutes(app, run)
  Dashboard.dashboardRoutes()(app, run)
  Profile.profileRoutes(app, run)
  deadLetterRoutes(app, run)
}

/** Every read model the routes serve from: /readyz answers 503 until each has loaded. */
export const readModels = [
  Identity.CredentialsProjection.readModel,
  Identity.SessionProjector.readModel,
  Dashboard.DashboardProjector.readModelSource,
  Profile.ProfileProjector.readModelSource
]

/** What the routes need beyond Redis and PostgreSQL, given an IdentityConfig. */
export const servicesLayer = Layer.mergeAll(Identity.edgeLayer, Dashboard.edgeLayer, Profile.edgeLayer, StepUp.layerConfig)
