// The dashboard projector process: `node --import tsx packages/dashboard/src/main.ts` (processes.json). Consumer group `dashboard` on cdc.deposits, cdc.cards, cdc.lending and
// cdc.investments; start a second process for fail-over (it stands by until the lease of the
// first lapses). It follows the read model's generation pointer: after scripts/rebuild.ts
// switched readers to a new generation, it stops the old consumers and goes on with the new
// generation's. Reads REDIS_URL, DOCUMENT_STORE_BACKEND and the DASHBOARD_* variables (see
// .env.example). SIGTERM or SIGINT stops it gracefully: the batch in hand is applied and
// acknowledged, and the leases are given back.
import { DocumentStore, Process, ReadModel, StreamLog } from "@bank/platform"
import { Layer } from "effect"
import * as DashboardProjector from "./DashboardProjector.ts"

Process.launch(
  { name: "dashboard", needs: ["redis"] },
  DashboardProjector.layerConfig.pipe(
    Layer.provide(Layer.mergeAll(DocumentStore.layerConfig, StreamLog.layer, ReadModel.layer()))
  )
)
