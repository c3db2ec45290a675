// @bank/profile owns the customer profile: one JSON document per customer compiled from the
// customer master, the CRM and a summary of the product holdings (Profile.ts), kept by the
// profile projector from their CDC streams (ProfileProjector.ts), read at paths by the routes
// (ProfileRoutes.ts), changed only through `profile.commands`, which the profile writer applies
// to PostgreSQL so the change comes back through CDC (ProfileWriter.ts), and checked against
// the systems of record by reconciliation (PgProfile.ts, Reconcile.ts).
import { DocumentStore, ReadModel, StreamLog } from "@bank/platform"
import { Layer } from "effect"
import * as ProfileDocuments from "./ProfileDocuments.ts"

export * from "./Errors.ts"
export { problems, type ProblemTag } from "./Problems.ts"
export * as PgProfile from "./PgProfile.ts"
export * as Profile from "./Profile.ts"
export * as ProfileProjection from "./ProfileProjection.ts"
export * as ProfileProjector from "./ProfileProjector.ts"
export { profileOperations, ProfileDocument } from "./Api.ts"
export { makeProfileRoutes, profileRoutes, type Services as RouteServices } from "./ProfileRoutes.ts"
export { ProfileDocuments }
export * as ProfileWriter from "./ProfileWriter.ts"
export * as Reconcile from "./Reconcile.ts"

/** What the edge needs for the profile routes, given the Redis services. */
export const edgeLayer = ProfileDocuments.layerConfig.pipe(
  Layer.provideMerge(Layer.mergeAll(DocumentStore.layer, StreamLog.layer, ReadModel.layer()))
)
export * as Errors from "./Errors.ts"
