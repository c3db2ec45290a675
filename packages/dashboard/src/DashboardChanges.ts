// `dashboard.changes`: one event each time the projector wrote a customer's dashboard. The
// edge's live feed (DashboardFeed.ts) tails it to push the new document to that customer's
// open event streams; its entry ids are the SSE event ids a reconnecting app resumes from.
// Producer and consumer are both this capability; another capability that wants to react to
// dashboard changes would read it through this contract.
import { StreamSpec } from "@bank/platform"
import { Schema } from "effect"

export const DashboardChanged = Schema.TaggedStruct("DashboardChanged", {
  customerId: Schema.String,
  /** The document's revision after the write. */
  revision: Schema.String,
  /** The product line whose change it was, and that stream's position now reflected. */
  system: Schema.String,
  position: Schema.String,
  /** Commit time of the newest change the document reflects. */
  asOf: Schema.NullOr(Schema.String)
})
export type DashboardChanged = typeof DashboardChanged.Type

export const changes = StreamSpec.define({
  name: "dashboard.changes",
  schema: Schema.Union([DashboardChanged]),
  // How far back a reconnecting app can resume; beyond it, it gets the current document.
  retention: { maxLen: 200_000 }
})
