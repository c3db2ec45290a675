// `npx tsx scripts/reconcile.ts [flags]`: compares every document of each read model that can be
// compared with the systems of record (dashboard, profile, credentials, reference data) with PostgreSQL and
// reports each mismatch. Exit code 0 when all agree, 1 when there is a mismatch, 2 when it could
// not check.
//
//   --only <read model>        check one read model (default every one)
//   --recheck-ms N             wait before looking again at differing customers, since a live
//                              system is always a little behind (default 2000; 0: look once)
//   --json                     one JSON line per mismatch on stdout (default: readable lines)
//
// Reads DATABASE_URL and REDIS_URL. Progress and the summary go to stderr. It takes each read
// rebuildable model's Projection value (scripts/lib/readModels.ts) and runs the comparison it declares
// (@bank/dashboard Reconcile, @bank/profile Reconcile, @bank/identity CredentialsReconcile,
// @bank/prefetch ReferenceDataProjection).
import { CommandLine, Database, DocumentStore, Readiness, RedisClient, StreamLog } from "@bank/platform"
import { Effect, Exit, Layer, References } from "effect"
import { Redis } from "effect/persistence/Redis"
import { rebuildable } from "./lib/readModels.ts"

// The projections that are not rebuildable have nothing to compare: the sessions are the system of
// record, the transaction windows a cache.
const checkable = rebuildable.filter((model) => model.reconcile !== undefined)
const names = checkable.map((model) => model.name).join("|")

const { values } = CommandLine.parse({
  name: "npx tsx scripts/reconcile.ts",
  summary: "Compare every read model's documents in Redis with the systems of record in PostgreSQL.",
  usage: `[--only ${names}] [--recheck-ms N] [--json]`,
  options: {
    only: { type: "string", value: names, description: "check one read model (default every one)" },
    "recheck-ms": {
      type: "string",
      value: "N",
      description: "wait before looking again at differing customers (default 2000; 0: look once)"
    },
    json: { type: "boolean", description: "one JSON line per mismatch on stdout" }
  },
  details: "Reads DATABASE_URL and REDIS_URL. Exit code 0 when all agree, 1 on a mismatch, 2 when it could not check."
})
const only = values.only
if (only !== undefined && !checkable.some((model) => model.name === only))
  CommandLine.usageError("reconcile", `--only takes ${names}, not ${only}`)
const recheckAfterMs = Number(values["recheck-ms"] ?? 2000)
if (!(recheckAfterMs >= 0)) CommandLine.usageError("reconcile", "--recheck-ms needs a number of milliseconds")

interface Mismatch {
  readonly customerId: string
  readonly document: string
  readonly what: string
  readonly expected?: unknown
  readonly actual?: unknown
}

const show = (m: Mismatch) =>
  values.json
    ? JSON.stringify(m)
    : `customer ${m.customerId} ${m.document}: ${m.what}` +
      ("expected" in m ? ` (expected ${JSON.stringify(m.expected)}, found ${JSON.stringify(m.actual ?? null)})` : "")

const progress = (what: string) => (checked: number) =>
  process.stderr.write(`\rreconcile: ${what}: ${checked.toLocaleString("en-US")} customers checked`)

const program = Effect.gen(function* () {
  const started = performance.now()
  const reports: Array<{ what: string; checked: number; mismatches: ReadonlyArray<Mismatch> }> = []
  for (const model of checkable) {
    if (only !== undefined && model.name !== only) continue
    const r = yield* model.reconcile!({ recheckAfterMs, onProgress: progress(model.name) })
    process.stderr.write("\n")
    reports.push({ what: model.name, ...r })
  }
  for (const report of reports) for (const m of report.mismatches) console.log(show(m))
  // The edge exports these as `readmodel_drift` (the ReadModelDrift alert).
  const redis = yield* Redis
  for (const report of reports) {
    yield* redis.send("SET", Readiness.driftKey(report.what), String(report.mismatches.length))
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  const summary = reports
    .map((r) => `${r.what}: ${r.checked} customers checked, ${r.mismatches.length} mismatches`)
    .join("; ")
  console.error(`reconcile: ${summary} (${seconds} s)`)
  return reports.reduce((n, r) => n + r.mismatches.length, 0)
})

const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const redis = RedisClient.layer(process.env.REDIS_URL ?? "redis://127.0.0.1:6379")
const exit = await Effect.runPromiseExit(
  program.pipe(
    Effect.provide(
      Layer.mergeAll(
        Database.layer(url),
        Layer.mergeAll(DocumentStore.layer, StreamLog.layer).pipe(Layer.provideMerge(redis))
      )
    ),
    Effect.provide(Layer.succeed(References.MinimumLogLevel, "Warn"))
  )
)
if (Exit.isSuccess(exit)) process.exit(exit.value === 0 ? 0 : 1)
console.error("reconcile: could not check", exit.cause)
process.exit(2)
