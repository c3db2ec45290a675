// @bank/dashboard owns the account dashboard: one JSON document per customer with every account
// across deposits, cards, loans and mortgages, and investments, totals per currency and the
// latest transactions, kept current from the product systems' CDC streams. It holds the
// projection rules (Dashboard.ts, Products.ts), the transactional CDC consumer that applies a
// whole database transaction at once (TransactionAssembler.ts, on the platform's partition-owned
// consumer engine), the projector
// process (DashboardProjector.ts, main.ts), the `dashboard.changes` stream, the HTTP routes with
// the live Server-Sent Events feed (DashboardRoutes.ts, DashboardFeed.ts), the same document
// assembled from PostgreSQL (PgDashboard.ts) and the reconciliation that compares the two
// (Reconcile.ts).
import { DocumentStore, ReadModel } from "@bank/platform"
import * as DashboardDocuments from "./DashboardDocuments.ts"
import { Layer } from "effect"
import * as DashboardFeed from "./DashboardFeed.ts"

export * as Dashboard from "./Dashboard.ts"
export * as DashboardChanges from "./DashboardChanges.ts"
export * as DashboardProjection from "./DashboardProjection.ts"
export * as DashboardProjector from "./DashboardProjector.ts"
export { Account, DashboardDocument, dashboardOperations, Total, Transaction } from "./Api.ts"
export * from "./Errors.ts"
export { problems, type ProblemTag } from "./Problems.ts"
export { dashboardRoutes, type Services as RouteServices } from "./DashboardRoutes.ts"
export * as PgDashboard from "./PgDashboard.ts"
export * as Positions from "./Positions.ts"
export * as Products from "./Products.ts"
export * as Reconcile from "./Reconcile.ts"
export * as TransactionAssembler from "./TransactionAssembler.ts"
export { DashboardFeed }
export { DashboardDocuments }

/** What the edge needs for the dashboard routes, given the Redis services (Redis and RedisTopology). */
export const edgeLayer = DashboardFeed.layer().pipe(
  Layer.provideMerge(DashboardDocuments.layerConfig),
  Layer.provideMerge(Layer.mergeAll(DocumentStore.layer, ReadModel.layer()))
)
export { callerOf } from "./DashboardRoutes.ts"
