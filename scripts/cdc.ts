// The CDC connector process: `npx tsx scripts/cdc.ts`. PostgreSQL logical replication of the
// systems of record into the `cdc.<system>` Redis Streams (packages/records/src/cdc).
// Reads DATABASE_URL, REDIS_URL and the CDC_* variables (see .env.example). SIGTERM or SIGINT
// stops it gracefully: the batch in hand is written and confirmed, the replication stream is
// ended, connections close. If Redis is not up yet it keeps trying to connect.
import * as CdcConnector from "@bank/records/cdc/CdcConnector"
import * as RedisClient from "@bank/platform/RedisClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Schedule } from "effect"

CdcConnector.layerConfig.pipe(
  Layer.provide(RedisClient.layerConfig),
  Layer.launch,
  Effect.tapError((error) => Effect.logWarning("CDC connector could not start; retrying", error)),
  Effect.retry({ schedule: Schedule.min([Schedule.exponential("250 millis"), Schedule.spaced("30 seconds")]) }),
  NodeRuntime.runMain
)
