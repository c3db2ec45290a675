// The identity process's body (scripts/identity.ts sizes the thread pool, then calls `launch`):
// the identity actor, the credentials projection and the session projector on REDIS_URL, with
// the IDENTITY_* settings, until SIGTERM or SIGINT.
import * as Readiness from "@bank/platform/Readiness"
import * as RedisClient from "@bank/platform/RedisClient"
import * as CdcConnector from "@bank/records/cdc/CdcConnector"
import * as Telemetry from "@bank/platform/Telemetry"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer } from "effect"
import * as CredentialsProjection from "./CredentialsProjection.ts"
import * as IdentityConfig from "./IdentityConfig.ts"
import { actorsLayer } from "./index.ts"

export const launch = (kdfThreads: number): void =>
  actorsLayer.pipe(
    Layer.tap(() => Effect.logInfo("identity started").pipe(Effect.annotateLogs({ kdfThreads }))),
    Layer.provide(Readiness.layerConfig([CredentialsProjection.readModel], CdcConnector.snapshotMarkerConfig)),
    Layer.provide(IdentityConfig.layerConfig),
    Layer.provide(RedisClient.layerConfig),
    Layer.provide(Telemetry.layerConfig),
    Layer.launch,
    NodeRuntime.runMain
  )
