// The CDC connector process: `node --import tsx packages/cdc/src/main.ts` (processes.json).
// PostgreSQL logical replication of the systems of record into the `cdc.<system>` Redis Streams.
// Reads DATABASE_URL, REDIS_URL and the CDC_* variables (see .env.example). SIGTERM or SIGINT
// stops it gracefully: the batch in hand is written and confirmed, the replication stream is
// ended, connections close. If Redis is not up yet it keeps trying to connect.
import { Process } from "@bank/platform"
import * as CdcConnector from "./CdcConnector.ts"

Process.launch({ name: "cdc", needs: ["redis"], retryStart: true }, CdcConnector.layerConfig)
