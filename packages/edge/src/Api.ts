// The composition root's one job: every capability's routes behind the token check, their
// problem tables merged, and the API described as one thing: every route's Operation, from which
// the OpenAPI document (/openapi.json, /docs) is built. The token check is mounted here, in front
// of the paths it guards, where a reader sees it; a capability's route that fails with a tag
// missing from `problems` does not compile, and ApiDocument.test.ts fails when the app has a
// route this document lacks.
import * as Dashboard from "@bank/dashboard"
import { docsRoutes, kitOperations, OpenApiDocument, type Operation, type Routes, StepUp } from "@bank/http"
import * as Identity from "@bank/identity"
import * as Payments from "@bank/payments"
import type { Database, RedisClient } from "@bank/platform"
import * as Prefetch from "@bank/prefetch"
import * as Profile from "@bank/profile"
import * as Web from "@bank/web"
import { Layer } from "effect"
import { deadLetterOperations, deadLetterRoutes } from "./DeadLetterRoutes.ts"
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

/** Every route's description: the kit's, each capability's, the staff's and the web app's. */
export const operations: ReadonlyArray<Operation> = [
  ...kitOperations,
  ...Identity.identityOperations,
  ...Identity.adminOperations,
  ...Dashboard.dashboardOperations,
  ...Payments.paymentsOperations,
  ...Prefetch.prefetchOperations,
  ...Profile.profileOperations,
  ...deadLetterOperations,
  ...Web.webOperations
]

export const document = OpenApiDocument.build({
  title: "Mobile banking real-time data layer",
  version: "1.0.0",
  operations,
  problems,
  description:
    'Every account is named by one opaque id (`deposits:10`) everywhere; money is always `{ "amount": "12.50", "currency": "EUR" }` with the currency\'s decimals; date-times are RFC 3339 in UTC. Errors are RFC 9457 problems whose `type` links to its documentation ([all problem types](/docs/problems)).\n\n' +
    "Writes answer a `Consistency-Token` header; send it with GET /v1/dashboard, /v1/profile or /v1/session to read your own write (the answer waits until the document shows it, or is 503 with Retry-After). Versioning: `/v1` changes only by addition; breaking changes come as `/v2`, deprecations are announced with Deprecation and Sunset headers at least 6 months ahead."
})

export interface ApiOptions {
  readonly dashboard?: Parameters<typeof Dashboard.dashboardRoutes>[0]
}

/** Every route: the documents and the web app (no token), then the API behind the token check. */
export const makeApi =
  (options: ApiOptions = {}): Routes<Services, keyof typeof problems> =>
  (app, run) => {
    docsRoutes(document, problems)(app, run)
    Web.webRoutes()(app, run)
    // Every /v1 route needs a bearer access token, except login and refresh (Identity.publicPaths).
    app.use("/v1/*", Identity.tokenCheck(run))
    Identity.identityRoutes(app, run)
    Identity.adminRoutes(app, run)
    Payments.paymentsRoutes(app, run)
    Prefetch.prefetchRoutes(app, run)
    Dashboard.dashboardRoutes(options.dashboard)(app, run)
    Profile.profileRoutes(app, run)
    deadLetterRoutes(app, run)
  }

export const api = makeApi()

/** Every read model the routes serve from: /readyz answers 503 until each has loaded. */
export const readModels = [
  Identity.CredentialsProjection.readModel,
  Identity.SessionProjector.readModel,
  Dashboard.DashboardProjector.readModelSource,
  Profile.ProfileProjector.readModelSource
]

/** What the routes need beyond Redis and PostgreSQL, given an IdentityConfig. */
export const servicesLayer = Layer.mergeAll(
  Identity.edgeLayer,
  Dashboard.edgeLayer,
  Profile.edgeLayer,
  Prefetch.edgeLayer,
  StepUp.layerConfig
)
