// The identity process's body (main.ts sizes the thread pool, then calls `launch`): the
// identity actor, the credentials projection and the session projector on REDIS_URL, with the
// IDENTITY_* settings, until SIGTERM or SIGINT.
import { Process } from "@bank/platform"
import { Layer } from "effect"
import * as IdentityConfig from "./IdentityConfig.ts"
import { actorsLayer } from "./index.ts"

export const launch = (kdfThreads: number): void =>
  Process.launch(
    { name: "identity", needs: ["redis"], annotations: { kdfThreads } },
    actorsLayer.pipe(Layer.provide(IdentityConfig.layerConfig))
  )
