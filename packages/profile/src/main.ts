// The profile process: `node --import tsx packages/profile/src/main.ts` (npm start runs it).
// The profile projector (consumer group `profile` on the customer, CRM and product CDC streams)
// and the profile writer (`profile.writer` on `profile.commands`, writing to PostgreSQL). Start
// more of them to scale: each is a consumer in the same groups. Reads REDIS_URL, DATABASE_URL
// and DOCUMENT_STORE_BACKEND; SIGTERM or SIGINT stops it gracefully.
import * as Database from "@bank/platform/Database"
import * as DocumentStore from "@bank/platform/DocumentStore"
import * as RedisClient from "@bank/platform/RedisClient"
import * as Telemetry from "@bank/platform/Telemetry"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Layer } from "effect"
import * as ProfileProjector from "./ProfileProjector.ts"
import * as ProfileWriter from "./ProfileWriter.ts"

Layer.mergeAll(ProfileProjector.layer, ProfileWriter.layer).pipe(
  Layer.provide(Layer.mergeAll(DocumentStore.layerConfig, Database.layerConfig)),
  Layer.provide(RedisClient.layerConfig),
  Layer.provide(Telemetry.layerConfig),
  Layer.launch,
  NodeRuntime.runMain
)
