// The public API as one thing: every capability's routes (in the order they must be mounted:
// identity first, its token check guards the /v1 routes after it) and every route's
// description, from which the OpenAPI document is built. main.ts serves exactly these routes,
// and ApiDocument.test.ts fails when the app has a route this document lacks.
import * as Dashboard from "@bank/dashboard"
import * as Identity from "@bank/identity"
import * as Payments from "@bank/payments"
import type * as Database from "@bank/platform/Database"
import type * as RedisClient from "@bank/platform/RedisClient"
import * as Prefetch from "@bank/prefetch"
import * as Profile from "@bank/profile"
import * as Web from "@bank/web"
import type { Redis } from "effect/persistence/Redis"
import type { Routes } from "./App.ts"
import { docsRoutes, kitOperations } from "./DocsRoutes.ts"
import * as OpenApiDocument from "./OpenApiDocument.ts"
import type { Operation } from "./Operations.ts"

export type Services =
  | Redis
  | RedisClient.NodeRedis.NodeRedis
  | Database.Database
  | Identity.RouteServices
  | Dashboard.RouteServices
  | Profile.RouteServices
  | Payments.RouteServices
  | Prefetch.RouteServices

export const operations: ReadonlyArray<Operation> = [
  ...kitOperations,
  ...Identity.identityOperations,
  ...Dashboard.dashboardOperations,
  ...Payments.paymentsOperations,
  ...Prefetch.prefetchOperations,
  ...Profile.profileOperations,
  ...Web.webOperations
]

export const document = OpenApiDocument.build({
  title: "Mobile banking real-time data layer",
  version: "1.0.0",
  operations,
  description:
    "Every account is named by one opaque id (`deposits:10`) everywhere; money is always `{ \"amount\": \"12.50\", \"currency\": \"EUR\" }` with the currency's decimals; date-times are RFC 3339 in UTC. Errors are RFC 9457 problems whose `type` links to its documentation ([all problem types](/docs/problems)).\n\n" +
    "Writes answer a `Consistency-Token` header; send it with GET /v1/dashboard, /v1/profile or /v1/session to read your own write (the answer waits until the document shows it, or is 503 with Retry-After). Versioning: `/v1` changes only by addition; breaking changes come as `/v2`, deprecations are announced with Deprecation and Sunset headers at least 6 months ahead."
})

export interface RouteOptions {
  readonly dashboard?: Parameters<typeof Dashboard.dashboardRoutes>[0]
}

/** Every route of the API, the documents included, in mounting order. */
export const routes = (options: RouteOptions = {}): ReadonlyArray<Routes<Services>> => [
  docsRoutes(document),
  Web.webRoutes(),
  Identity.identityRoutes,
  Payments.paymentsRoutes,
  Prefetch.prefetchRoutes,
  Dashboard.dashboardRoutes(options.dashboard),
  Profile.profileRoutes
]
