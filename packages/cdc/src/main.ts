// The CDC connector process: `node --import tsx packages/cdc/src/main.ts` (processes.json).
// PostgreSQL logical replication of the systems of record into the `cdc.<system>` Redis Streams.
// Reads DATABASE_URL, REDIS_URL and the CDC_* variables (see .env.example). SIGTERM or SIGINT
// stops it gracefully: the batch in hand is written and confirmed, the replication stream is
// ended, connections close. If Redis is not up yet it keeps trying to connect.
import { Management, Process } from "@bank/platform"
import { Effect, Layer } from "effect"
import * as CdcConnector from "./CdcConnector.ts"

// The connector's numbers (slot lag, role, throughput) on the process's /metrics.
const exported = Layer.effectDiscard(
  Effect.gen(function* () {
    const management = yield* Management.Management
    const connector = yield* CdcConnector.CdcConnector
    management.collect(connector.prometheus)
  })
)

Process.launch(
  { name: "cdc", needs: ["redis"], retryStart: true },
  exported.pipe(Layer.provideMerge(CdcConnector.layerConfig))
)
