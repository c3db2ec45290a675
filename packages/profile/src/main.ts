// The profile process: `node --import tsx packages/profile/src/main.ts` (processes.json).
// The profile projector (consumer group `profile` on the customer, CRM and product CDC streams)
// and the profile writer (`profile.writer` on `profile.commands`, writing to PostgreSQL and the mail outbox). Start
// more of them to scale: each is a consumer in the same groups. The projector follows the read
// model's generation pointer, so scripts/rebuild.ts profile can switch it to a rebuilt generation. Reads REDIS_URL, DATABASE_URL
// and DOCUMENT_STORE_BACKEND; SIGTERM or SIGINT stops it gracefully.
import { DocumentStore, Process, ReadModel, StreamLog } from "@bank/platform"
import { Layer } from "effect"
import * as ProfileProjector from "./ProfileProjector.ts"
import * as ProfileWriter from "./ProfileWriter.ts"

Process.launch(
  { name: "profile", needs: ["redis", "postgres"] },
  Layer.mergeAll(ProfileProjector.layerFollowing, ProfileWriter.layer).pipe(
    Layer.provide(Layer.mergeAll(DocumentStore.layerConfig, ReadModel.layer(), StreamLog.layer))
  )
)
