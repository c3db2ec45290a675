// The payments process: `npx tsx scripts/payments.ts`. Runs the payments actor (the `payments`
// consumer group on `payments.commands`), which books transfers in PostgreSQL. Start more of
// them to scale: each is a consumer in the same group. Reads REDIS_URL and DATABASE_URL (see
// .env.example); SIGTERM or SIGINT stops it gracefully.
import { actorLayer } from "@bank/payments"
import * as Database from "@bank/platform/Database"
import * as RedisClient from "@bank/platform/RedisClient"
import * as Telemetry from "@bank/platform/Telemetry"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer } from "effect"

actorLayer.pipe(
  Layer.tap(() => Effect.logInfo("payments started")),
  Layer.provide(Layer.mergeAll(RedisClient.layerConfig, Database.layerConfig)),
  Layer.provide(Telemetry.layerConfig),
  Layer.launch,
  NodeRuntime.runMain
)
