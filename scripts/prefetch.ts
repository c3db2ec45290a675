// The prefetch process: `npx tsx scripts/prefetch.ts`. Runs the prefetch actors (the `prefetch`
// consumer group on `identity.audit`, the four ledgers' CDC streams and `cdc.ref`): each login
// prefetches the customer's recent transactions into Redis, CDC keeps them and the reference
// data caches current. Start more of them to scale: each is a consumer in the same groups.
// Reads REDIS_URL, DATABASE_URL and the PREFETCH_* variables (see .env.example); SIGTERM or
// SIGINT stops it gracefully.
import { actorLayer } from "@bank/prefetch"
import * as Database from "@bank/platform/Database"
import * as RedisClient from "@bank/platform/RedisClient"
import * as Telemetry from "@bank/platform/Telemetry"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer } from "effect"

actorLayer.pipe(
  Layer.tap(() => Effect.logInfo("prefetch started")),
  Layer.provide(Layer.mergeAll(RedisClient.layerConfig, Database.layerConfig)),
  Layer.provide(Telemetry.layerConfig),
  Layer.launch,
  NodeRuntime.runMain
)
