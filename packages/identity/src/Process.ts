// The identity process's body (main.ts sizes the thread pool, then calls `launch`): the
// identity actor, the credentials projection and the session projector on REDIS_URL, with the
// IDENTITY_* settings, until SIGTERM or SIGINT.
import { Cdc } from "@bank/contracts"
import { Process, Readiness } from "@bank/platform"
import { Layer } from "effect"
import * as CredentialsProjection from "./CredentialsProjection.ts"
import * as IdentityConfig from "./IdentityConfig.ts"
import { actorsLayer } from "./index.ts"

export const launch = (kdfThreads: number): void =>
  Process.launch(
    { name: "identity", needs: ["redis"], annotations: { kdfThreads } },
    actorsLayer.pipe(
      Layer.provide(Readiness.layerConfig([CredentialsProjection.readModel], Cdc.snapshotMarkerConfig)),
      Layer.provide(IdentityConfig.layerConfig)
    )
  )
