// Every projection in the system (platform Projection.ts), listed by name, for the tools:
// scripts/rebuild.ts and scripts/replay.ts work on the rebuildable ones and refuse the others
// with their reason; scripts/reconcile.ts compares the rebuildable ones that declare how. The
// composition of capabilities lives here, in a script, because no package may import them all.
import type { Cdc } from "@bank/contracts"
import { DashboardProjection } from "@bank/dashboard"
import { CredentialsProjection, SessionProjector } from "@bank/identity"
import { PrefetchActor, ReferenceDataProjection } from "@bank/prefetch"
import { Projection } from "@bank/platform"
import { ProfileProjection } from "@bank/profile"

export type Rebuildable = Projection.Rebuildable<
  Cdc.RowChanged,
  Cdc.CdcMessage,
  DashboardProjection.Services | ProfileProjection.Services | ReferenceDataProjection.Services
>
/** The tools never run these; they only name them and say why not. */
type NotRebuildable = Projection.NotRebuildable<never, unknown>

export const dashboard: Rebuildable = DashboardProjection.projection
export const profile: Rebuildable = ProfileProjection.projection
export const credentials: Rebuildable = CredentialsProjection.projection
export const referenceData: Rebuildable = ReferenceDataProjection.projection

export const rebuildable: ReadonlyArray<Rebuildable> = [dashboard, profile, credentials, referenceData]
const notRebuildable: ReadonlyArray<NotRebuildable> = [SessionProjector.projection, PrefetchActor.windows]

export const readModels: ReadonlyMap<string, Rebuildable | NotRebuildable> = new Map(
  [...rebuildable, ...notRebuildable].map((model) => [model.name, model])
)

/** For --help: every projection, and whether it rebuilds. */
export const listing = [
  "Read models:",
  ...[...readModels.values()].map(
    (model) =>
      `  ${model.name.padEnd(20)} ${model.rebuild === "from-snapshot" ? "rebuilds from a fresh snapshot" : `not rebuildable: ${model.why}`}`
  )
].join("\n")

/** The rebuildable projection called `name`, or the one line that says why there is none. */
export const rebuildableNamed = (name: string): Rebuildable | string => {
  const model = readModels.get(name)
  if (model === undefined) return `unknown read model ${name}; known: ${[...readModels.keys()].join(", ")}`
  return model.rebuild === "from-snapshot" ? model : Projection.refusal(model)
}
