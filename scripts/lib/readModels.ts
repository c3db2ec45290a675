// The read models scripts/rebuild.ts and scripts/replay.ts can work on: each capability's
// Projection value (platform Projection.ts), listed by name. The composition of capabilities
// lives here, in a script, because no package may import them all.
import type { Cdc } from "@bank/contracts"
import { DashboardProjection } from "@bank/dashboard"
import { CredentialsProjection } from "@bank/identity"
import { ReferenceDataProjection } from "@bank/prefetch"
import type { Projection } from "@bank/platform"
import { ProfileProjection } from "@bank/profile"

export type Rebuildable = Projection.Projection<
  Cdc.RowChanged,
  Cdc.CdcMessage,
  DashboardProjection.Services | ProfileProjection.Services | ReferenceDataProjection.Services
>

export const dashboard: Rebuildable = DashboardProjection.projection
export const profile: Rebuildable = ProfileProjection.projection
export const credentials: Rebuildable = CredentialsProjection.projection
export const referenceData: Rebuildable = ReferenceDataProjection.projection

export const readModels: ReadonlyMap<string, Rebuildable> = new Map([
  [dashboard.name, dashboard],
  [profile.name, profile],
  [credentials.name, credentials],
  [referenceData.name, referenceData]
])
