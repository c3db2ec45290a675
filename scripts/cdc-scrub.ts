// One-off after upgrading to the CDC column filter: deletes the entries of the general CDC
// streams (and their dead-letter streams) that carry a column the filter now keeps off them,
// e.g. password hashes on cdc.customer written by an older connector.
//   npx tsx scripts/cdc-scrub.ts            # dry run: what would go
//   npx tsx scripts/cdc-scrub.ts --apply    # delete them
// Reads REDIS_URL and CDC_COLUMN_FILTERS like the connector. Entries a consumer group has not
// read yet are held back (run it again later). Exit 0 when nothing is left to delete, 1 when
// entries remain (dry run or held back). Details: packages/records/src/cdc/Scrub.ts.
import { Cdc } from "@bank/contracts"
import { RedisClient } from "@bank/platform"
import { ColumnFilter, Scrub } from "@bank/cdc"
import { Effect, Logger } from "effect"

const apply = process.argv.includes("--apply")
const rules = process.env.CDC_COLUMN_FILTERS
  ? ColumnFilter.parse(process.env.CDC_COLUMN_FILTERS)
  : ColumnFilter.defaults
const results = await Effect.runPromise(
  Scrub.scrub({ rules, systems: Cdc.capturedSchemas, apply, ignoreGroups: ["identity.credentials"] }).pipe(
    Effect.provide(RedisClient.layerConfig),
    Effect.provide(Logger.layer([]))
  )
)
let left = 0
for (const r of results) {
  console.log(
    `${r.stream}: ${r.found} carry filtered columns, ${apply ? `${r.deleted} deleted` : "dry run"}, ${r.heldBack} held back`
  )
  left += r.found - r.deleted
}
process.exit(left === 0 ? 0 : 1)
