// @bank/identity owns who the caller is: logging in, tokens, sessions and the protection
// around them. It holds the credentials projection (login data projected from the customer
// master's CDC stream into Redis, so a login never touches PostgreSQL), the identity actor
// (request/reply on `identity.requests`: password checks with scrypt on libuv's thread pool,
// token issuance with refresh-token rotation and reuse detection, logout and revocation), the
// token and session stores in Redis (only token hashes are stored; sessions are JSON documents
// with sliding idle expiry, an absolute lifetime and a per-customer cap), brute-force protection
// (rate limits per username and client address, lockout, no user enumeration), the audit trail
// (`identity.audit`), the session projector (`session.events` into session documents), and the
// HTTP routes with the token check the edge puts in front of every /v1 route.
import { DocumentStore, ReadModel, RequestReply, StreamLog } from "@bank/platform"
import { Layer } from "effect"
import * as CredentialsProjection from "./CredentialsProjection.ts"
import * as IdentityActor from "./IdentityActor.ts"
import * as IdentityConfig from "./IdentityConfig.ts"
import * as SessionDocuments from "./SessionDocuments.ts"
import * as SessionExpiry from "./SessionExpiry.ts"
import * as SessionProjector from "./SessionProjector.ts"
import * as StreamGuard from "./StreamGuard.ts"
import * as TokenCheck from "./TokenCheck.ts"

export { principalOf, publicPaths, tokenCheck } from "./AuthMiddleware.ts"
export * from "./Errors.ts"
export { adminOperations, identityOperations, SessionDocument, TokenPair } from "./Api.ts"
export { problems, type ProblemTag } from "./Problems.ts"
export { identityRoutes, type Services as RouteServices } from "./Routes.ts"
export { adminRoutes } from "./AdminRoutes.ts"
export {
  CredentialsProjection,
  IdentityActor,
  IdentityConfig,
  SessionExpiry,
  SessionProjector,
  StreamGuard,
  TokenCheck
}
export * as Credentials from "./Credentials.ts"
export * as CredentialsReconcile from "./CredentialsReconcile.ts"
export * as IdentityKeys from "./IdentityKeys.ts"
export * as LoginThrottle from "./LoginThrottle.ts"
export * as Secrets from "./Secrets.ts"
export { SessionDocuments }
export * as SessionStore from "./SessionStore.ts"
export * as TokenStore from "./TokenStore.ts"

/**
 * What the edge needs to serve the identity routes, given the Redis services and an
 * IdentityConfig: the requester for the identity actor, the stream log, the document store, the
 * token check and the live-stream guard (LiveSessions).
 */
export const edgeLayer = Layer.mergeAll(
  RequestReply.layerRequester,
  TokenCheck.layer,
  StreamGuard.layer,
  SessionDocuments.layerConfig
).pipe(Layer.provideMerge(Layer.mergeAll(DocumentStore.layer, StreamLog.layer)))

/**
 * The identity process: the identity actor, the credentials projection (following its
 * generation pointer, so `scripts/rebuild.ts credentials` can switch it) and the session
 * projector, given the Redis services and an IdentityConfig.
 */
export const actorsLayer = Layer.mergeAll(
  IdentityActor.layer,
  CredentialsProjection.layerFollowing,
  SessionProjector.layer,
  SessionExpiry.layer()
).pipe(Layer.provide(Layer.mergeAll(StreamLog.layer, DocumentStore.layer, ReadModel.layer())))
export * as Errors from "./Errors.ts"
export * as Audit from "./Audit.ts"
