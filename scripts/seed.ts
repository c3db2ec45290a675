// `npx tsx scripts/seed.ts [flags]`: migrates DATABASE_URL and loads the synthetic data set:
// customers with a random mix of products and months of history, deterministic from the seed,
// with demo log-ins demo1 ... demoN (password `demo-password`). A database that already holds
// data is left alone unless --force (which wipes the systems of record first).
//
//   --customers N   how many customers (default 1000; a million works, streamed in batches)
//   --months M      months of history (default 3)
//   --seed S        same seed and --as-of, same data (default 42)
//   --as-of DATE    YYYY-MM-DD, the history ends the day before (default: today, UTC)
//   --hash-pool K   distinct password hashes to compute (default 1000; see Generator.ts)
//   --batch-size B  customers per COPY transaction (default 500)
//   --force         wipe and seed again when the database holds data
//
// SEED_CUSTOMERS and SEED_MONTHS set the defaults of --customers and --months (for `npm start`).
// Progress goes to stderr; a JSON summary to stdout.
import { CommandLine, Database } from "@bank/platform"
import { Generator } from "@bank/core-banking"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"

const { values } = CommandLine.parse({
  name: "npx tsx scripts/seed.ts",
  summary:
    "Migrate DATABASE_URL and load the deterministic demo data set (log-ins demo1 ... demoN, password demo-password).",
  options: {
    customers: { type: "string", value: "N", description: "how many customers (default 1000, or SEED_CUSTOMERS)" },
    months: { type: "string", value: "M", description: "months of history (default 3, or SEED_MONTHS)" },
    seed: { type: "string", value: "S", description: "same seed and --as-of, same data (default 42)" },
    "as-of": {
      type: "string",
      value: "YYYY-MM-DD",
      description: "the history ends the day before (default: today, UTC)"
    },
    "hash-pool": { type: "string", value: "K", description: "distinct password hashes to compute (default 1000)" },
    "batch-size": { type: "string", value: "B", description: "customers per COPY transaction (default 500)" },
    force: { type: "boolean", description: "wipe and seed again when the database holds data" }
  }
})
const int = (flag: string, value: string | undefined) => CommandLine.positiveInt("seed", flag, value)
const customers = int("customers", values.customers ?? process.env.SEED_CUSTOMERS)
const months = int("months", values.months ?? process.env.SEED_MONTHS)
const hashPool = int("hash-pool", values["hash-pool"])
const batchSize = int("batch-size", values["batch-size"])
const options = {
  ...(customers !== undefined ? { customers } : {}),
  ...(months !== undefined ? { months } : {}),
  ...(hashPool !== undefined ? { hashPool } : {}),
  ...(batchSize !== undefined ? { batchSize } : {}),
  ...(values.seed !== undefined ? { seed: values.seed } : {}),
  ...(values["as-of"] !== undefined ? { asOf: values["as-of"] } : {}),
  force: values.force ?? false
}
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

const program = Generator.seedDemo(url, options).pipe(
  Effect.tap((summary) =>
    summary.skipped
      ? Console.error(`seed: ${summary.skipped}`)
      : Console.error(
          `seed: ${summary.customers.toLocaleString("en-US")} customers, ${summary.rows.toLocaleString("en-US")} rows in ${summary.seconds.toFixed(1)} s; log in as demo1 ... demo${summary.customers} with password demo-password, and as admin with demo-admin-password`
        )
  ),
  Effect.tap((summary) => Console.log(JSON.stringify(summary))),
  Effect.provide(Database.layer(url))
)

NodeRuntime.runMain(program)
