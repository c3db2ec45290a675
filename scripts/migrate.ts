// `npx tsx scripts/migrate.ts`: applies packages/records/migrations to DATABASE_URL (the
// systems of record's schemas). Safe to run again, and from several processes at once: what
// is applied is skipped, and concurrent runs take turns on an advisory lock.
import { CommandLine, Database } from "@bank/platform"
import { migrate } from "@bank/records"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"

CommandLine.parse({
  name: "npx tsx scripts/migrate.ts",
  summary: "Apply the systems of record's migrations to DATABASE_URL (safe to run again)."
})

const program = migrate().pipe(
  Effect.tap(({ applied, alreadyApplied }) =>
    Console.error(
      `migrate: ${applied.length} applied${applied.length ? ` (${applied.map((m) => `${String(m.version).padStart(3, "0")}_${m.name}`).join(", ")})` : ""}, ` +
        `${alreadyApplied} already there`
    )
  ),
  Effect.provide(Database.layerConfig)
)

NodeRuntime.runMain(program)
