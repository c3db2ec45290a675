// `npx tsx scripts/rebuild.ts <read-model> [flags]`: rebuilds a read model from scratch without
// downtime. The new generation is built beside the one readers use, from a fresh snapshot of the
// systems of record plus the CDC stream tail; then readers and projectors switch to it at once,
// and after a grace period the old generation is deleted (@bank/cdc Rebuild.ts).
//
//   <read-model>        dashboard, profile, credentials or reference-data (scripts/lib/readModels.ts);
//                       sessions and transaction-windows are refused with the reason (exit 2)
//   --grace-ms N        how long readers may still read the old generation (default 30000)
//   --timeout-ms N      how long the connector and the tail may take to catch up (default 600000)
//   --page-size N       snapshot rows read and written at a time (default 1000)
//   --json              the summary as one JSON line on stdout
//
// Reads DATABASE_URL, REDIS_URL, DOCUMENT_STORE_BACKEND, and CDC_SLOT / CDC_PUBLICATION (the
// running CDC connector's, default bank_cdc), CDC_PARTITIONS (default 4). Progress and the summary go to stderr. Exit code 0
// when readers use the new generation, 1 when the rebuild failed (readers stay on the old one),
// 2 on bad arguments. Ctrl-C before the switch stops and deletes what was built.
import { Cdc } from "@bank/contracts"
import { CommandLine, Database, DocumentStore, RedisClient, StreamLog } from "@bank/platform"
import { Cause, Effect, Exit, Fiber, Layer, References } from "effect"
import { listing, rebuildable, rebuildableNamed } from "./lib/readModels.ts"
import { Rebuild } from "@bank/cdc"
const { rebuild } = Rebuild
type RebuildProgress = Rebuild.RebuildProgress

const { values, positionals } = CommandLine.parse({
  name: "npx tsx scripts/rebuild.ts",
  summary: "Rebuild a read model beside the live one from a fresh snapshot plus the stream tail, then switch readers.",
  usage: "<read-model> [flags]",
  options: {
    "grace-ms": {
      type: "string",
      value: "N",
      description: "how long readers may still read the old generation (default 30000)"
    },
    "timeout-ms": {
      type: "string",
      value: "N",
      description: "how long the connector and the tail may take to catch up (default 600000)"
    },
    "page-size": { type: "string", value: "N", description: "snapshot rows read and written at a time (default 1000)" },
    json: { type: "boolean", description: "the summary as one JSON line on stdout" }
  },
  positionals: { min: 1, max: 1 },
  details: `${listing}\nExit code 0 when readers use the new generation, 1 when it failed, 2 on bad arguments (a read model that is not rebuildable too).`
})
const fail = (text: string): never => CommandLine.usageError("rebuild", text)
const name = positionals[0] ?? fail(`name the read model: ${rebuildable.map((model) => model.name).join(", ")}`)
const found = rebuildableNamed(name)
const model = typeof found === "string" ? fail(found) : found
const count = (flag: string, fallback: number) => {
  const text = values[flag as keyof typeof values]
  const n = Number(text ?? fallback)
  return Number.isInteger(n) && n >= 0 ? n : fail(`--${flag} needs a whole number, got ${String(text)}`)
}
const graceMs = count("grace-ms", 30_000)
const catchUpTimeoutMs = count("timeout-ms", 600_000)
const pageSize = Math.max(1, count("page-size", 1000))

const group = (n: number) => Math.round(n).toLocaleString("en-US")
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const say = (text: string) => process.stderr.write(`rebuild ${name}: ${text}\n`)
let lastSaid = 0
const now = (text: string) => {
  if (Date.now() - lastSaid < 1000) return
  lastSaid = Date.now()
  say(text)
}
let snapshotFrom = 0
let from = 0
const onProgress = (event: RebuildProgress) => {
  switch (event.step) {
    case "start":
      snapshotFrom = Date.now()
      from = event.from
      say(
        `building generation ${event.to} beside generation ${event.from}` +
          (event.leftover > 0 ? ` (first deleted ${group(event.leftover)} documents an unfinished rebuild left)` : "")
      )
      return
    case "snapshot":
      return now(
        `snapshot: ${group(event.rows)} rows, ${group(event.rows / ((Date.now() - snapshotFrom) / 1000 || 1))} rows/s`
      )
    case "snapshot-done":
      return say(`snapshot at LSN ${event.lsn}: ${group(event.rows)} rows in ${seconds(Date.now() - snapshotFrom)}`)
    case "tail":
      return now(
        `catching up with the streams: ${group(event.lag)} entries to go` +
          (event.connectorAt === null ? "" : ` (CDC connector at ${event.connectorAt})`)
      )
    case "switched":
      return say(`readers switched to generation ${event.generation}; generation ${from} goes in ${seconds(graceMs)}`)
    case "cleanup":
      return now(`deleting generation ${from}: ${group(event.deleted)} documents`)
  }
}

const program = rebuild(model, {
  databaseUrl: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  publication: process.env.CDC_PUBLICATION ?? "bank_cdc",
  slot: process.env.CDC_SLOT ?? "bank_cdc",
  partitions: Number(process.env.CDC_PARTITIONS ?? Cdc.defaultPartitions),
  graceMs,
  catchUpTimeoutMs,
  pageSize,
  onProgress
}).pipe(
  Effect.provide(
    Layer.mergeAll(DocumentStore.layerConfig, StreamLog.layer, Database.layerConfig).pipe(
      Layer.provideMerge(RedisClient.layer(process.env.REDIS_URL ?? "redis://127.0.0.1:6379"))
    )
  ),
  Effect.provide(Layer.succeed(References.MinimumLogLevel, "Warn"))
)

const fiber = Effect.runFork(program)
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    say("stopping: what was built of the new generation is deleted, readers stay where they are")
    Effect.runFork(Fiber.interrupt(fiber))
  })
}
const exit = await Effect.runPromise(Fiber.await(fiber))
if (Exit.isSuccess(exit)) {
  const s = exit.value
  say(
    `done in ${seconds(s.totalMs)}: generation ${s.to} serves readers · snapshot ${group(s.snapshotRows)} rows at ${s.snapshotLsn} ` +
      `in ${seconds(s.snapshotMs)} (${group(s.snapshotRows / (s.snapshotMs / 1000 || 1))} rows/s) · caught up in ${seconds(s.catchUpMs)} · ` +
      `generation ${s.from}: ${group(s.deletedDocuments)} documents and ${s.deletedGroups} consumer groups deleted`
  )
  if (values.json) console.log(JSON.stringify(s))
  process.exit(0)
}
say(`failed; readers stay on their generation: ${Cause.pretty(exit.cause)}`)
process.exit(1)
