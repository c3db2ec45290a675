// The read models scripts/rebuild.ts and scripts/replay.ts can work on: each capability's
// Projection value (platform Projection.ts), listed by name. The composition of capabilities
// lives here, in a script, because no package may import them all.
//
// Only the dashboard is here. The profile is not rebuildable from CDC alone yet: ProfileWriter
// writes the request outcome (`lastUpdate`) into the document, which no system of record holds.
import type { Cdc } from "@bank/contracts"
import { DashboardProjection } from "@bank/dashboard"
import type { Projection } from "@bank/platform"

export type Rebuildable = Projection.Projection<Cdc.RowChanged, Cdc.CdcMessage, DashboardProjection.Services>

export const dashboard: Rebuildable = DashboardProjection.projection

export const readModels: ReadonlyMap<string, Rebuildable> = new Map([[dashboard.name, dashboard]])
