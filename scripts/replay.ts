// `npx tsx scripts/replay.ts <stream> --from <id> [--to <id>] --into <read-model> [flags]`:
// replays a range of a CDC stream into a read model's projection, for repairs (e.g. a document
// that was lost or damaged). Safe next to the running projector and idempotent: what a document
// already reflects is skipped, so replaying the same range twice changes nothing
// (@bank/cdc Replay.ts).
//
//   <stream>            a partition of a system's stream, e.g. cdc.deposits.p0
//   --from <id>         first entry id, inclusive ("-" for the oldest the stream keeps)
//   --to <id>           last entry id, inclusive (default: the newest)
//   --into <name>       the read model: dashboard, profile, credentials or reference-data
//                       (sessions and transaction-windows are refused: not rebuildable)
//   --generation N      write that generation (default: the one readers use)
//   --json              the summary as one JSON line on stdout
//
// Reads REDIS_URL and DOCUMENT_STORE_BACKEND. Progress and the summary go to stderr. Exit code 0
// when the range was replayed, 1 when it failed, 2 on bad arguments.
import { CommandLine, Database, DocumentStore, RedisClient, StreamLog } from "@bank/platform"
import { Cause, Effect, Exit, Layer, References } from "effect"
import { listing, rebuildable, rebuildableNamed } from "./lib/readModels.ts"
import { Replay } from "@bank/cdc"
const { replay } = Replay

const { values, positionals } = CommandLine.parse({
  name: "npx tsx scripts/replay.ts",
  summary: "Replay a range of a CDC stream into a read model's projection (idempotent; for repairs).",
  usage: "<stream> --from <id> [--to <id>] --into <read-model> [flags]",
  options: {
    from: {
      type: "string",
      value: "id",
      description: 'first entry id, inclusive ("-" for the oldest the stream keeps)'
    },
    to: { type: "string", value: "id", description: "last entry id, inclusive (default: the newest)" },
    into: {
      type: "string",
      value: "name",
      description: `the read model: ${rebuildable.map((model) => model.name).join(", ")}`
    },
    generation: { type: "string", value: "N", description: "write that generation (default: the one readers use)" },
    json: { type: "boolean", description: "the summary as one JSON line on stdout" }
  },
  positionals: { min: 1, max: 1 },
  details: `${listing}\nReads REDIS_URL and DOCUMENT_STORE_BACKEND. Exit code 0 when replayed, 1 when it failed, 2 on bad arguments (a read model that is not rebuildable too).`
})
const fail = (text: string): never => CommandLine.usageError("replay", text)
const ID = /^(-|\+|\d+(-\d+)?)$/
const stream = positionals[0] ?? fail("name the stream partition, e.g. cdc.deposits.p0")
const from = values.from ?? fail('--from <id> is required ("-" for the oldest entry)')
if (!ID.test(from) || (values.to !== undefined && !ID.test(values.to)))
  fail("entry ids look like 1718000000000-0, or - / +")
const name =
  values.into ?? fail(`--into <read-model> is required: ${rebuildable.map((model) => model.name).join(", ")}`)
const found = rebuildableNamed(name)
const model = typeof found === "string" ? fail(found) : found
const generation = values.generation === undefined ? undefined : Number(values.generation)
if (generation !== undefined && !(Number.isInteger(generation) && generation >= 1))
  fail("--generation needs a whole number from 1")

const group = (n: number) => Math.round(n).toLocaleString("en-US")
const say = (text: string) => process.stderr.write(`replay ${stream} into ${name}: ${text}\n`)
const started = Date.now()
let lastSaid = 0

const program = replay(model, {
  stream,
  from,
  ...(values.to !== undefined ? { to: values.to } : {}),
  ...(generation !== undefined ? { generation } : {}),
  onProgress: (entries, lastId) => {
    if (Date.now() - lastSaid < 1000) return
    lastSaid = Date.now()
    say(`${group(entries)} entries (${group(entries / ((Date.now() - started) / 1000 || 1))}/s), at ${lastId}`)
  }
}).pipe(
  Effect.provide(
    Layer.mergeAll(DocumentStore.layerConfig, StreamLog.layer, Database.layerConfig).pipe(
      Layer.provideMerge(RedisClient.layer(process.env.REDIS_URL ?? "redis://127.0.0.1:6379"))
    )
  ),
  Effect.provide(Layer.succeed(References.MinimumLogLevel, "Warn"))
)

const exit = await Effect.runPromiseExit(program)
if (Exit.isSuccess(exit)) {
  const s = exit.value
  for (const warning of s.warnings.slice(0, 20)) say(`warning: ${warning}`)
  if (s.warnings.length > 20) say(`... and ${s.warnings.length - 20} more warnings`)
  say(
    `${group(s.entries)} entries up to ${s.lastId ?? "(none)"} in ${(s.ms / 1000).toFixed(1)} s into generation ${s.generation}: ` +
      `${group(s.units)} units, ${group(s.changed)} documents changed` +
      (s.undecodable > 0 ? `, ${group(s.undecodable)} undecodable entries skipped` : "") +
      (s.unfinishedRows > 0
        ? `, ${group(s.unfinishedRows)} rows of transactions committed after the range left out`
        : "")
  )
  if (values.json) console.log(JSON.stringify(s))
  process.exit(0)
}
say(`failed: ${Cause.pretty(exit.cause)}`)
process.exit(1)
