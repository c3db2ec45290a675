// `npx tsx scripts/simulate.ts [flags]`: keeps writing realistic activity into the systems of
// record at DATABASE_URL at a chosen rate, as the bank's back ends would.
//
//   --rate R        target activities per second (default 100)
//   --duration D    how long: 90s, 5m, 1h, 500ms (default: until Ctrl-C)
//   --workers W     concurrent workers (default: from the rate)
//   --seed S        seeds the choice of accounts and amounts (default: random)
//
// Ctrl-C stops gracefully: work in progress commits, then the summary prints (a second Ctrl-C
// exits at once; an interrupted transaction rolls back). Progress every 5 s and the summary go
// to stderr; the summary also as one JSON line to stdout.
import { CommandLine, Database } from "@bank/platform"
import { Simulator, type SimulatorSummary } from "@bank/core-banking"
import { Deferred, Effect, Exit } from "effect"

const { values } = CommandLine.parse({
  name: "npx tsx scripts/simulate.ts",
  summary: "Keep writing realistic activity into the systems of record at DATABASE_URL, as the bank's back ends would.",
  options: {
    rate: { type: "string", value: "R", description: "target activities per second (default 100)" },
    duration: { type: "string", value: "D", description: "how long: 90s, 5m, 1h, 500ms (default: until Ctrl-C)" },
    workers: { type: "string", value: "W", description: "concurrent workers (default: from the rate)" },
    seed: { type: "string", value: "S", description: "seeds the choice of accounts and amounts (default: random)" }
  }
})
const fail = (text: string): never => CommandLine.usageError("simulate", text)
const rate = Number(values.rate ?? 100)
if (!(rate > 0)) fail(`--rate needs a positive number, got ${values.rate}`)
const parseDuration = (text: string): number => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text)
  if (!match) return fail(`--duration like 90s, 5m, 1h or 500ms, got ${text}`)
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? "s") as "ms" | "s" | "m" | "h"]
}
const durationMs = values.duration === undefined ? undefined : parseDuration(values.duration)
const workers = values.workers === undefined ? undefined : Number(values.workers)
if (workers !== undefined && !(Number.isInteger(workers) && workers > 0)) fail(`--workers needs a positive integer`)
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

const describe = (s: SimulatorSummary) =>
  `${(s.booked + s.declined).toLocaleString("en-US")} activities in ${s.seconds.toFixed(1)} s: ` +
  `${s.achievedRate.toFixed(1)}/s achieved (target ${s.targetRate}/s) · booked ${s.booked} · declined ${s.declined} · ` +
  `failed ${s.failed} · missed slots ${s.missed} · latency p50 ${s.latencyMs.p50.toFixed(1)} ms, p99 ${s.latencyMs.p99.toFixed(1)} ms`

const stop = Deferred.makeUnsafe<void>()
process.once("SIGINT", () => {
  console.error("\nsimulate: stopping (Ctrl-C again to quit at once)")
  Deferred.doneUnsafe(stop, Effect.void)
  process.once("SIGINT", () => process.exit(130))
})

const program = Simulator.run({
  rate,
  stop,
  ...(durationMs !== undefined ? { durationMs } : {}),
  ...(workers !== undefined ? { workers } : {}),
  ...(values.seed !== undefined ? { seed: values.seed } : {}),
  onReport: (s) => console.error(`simulate: ${describe(s)}`)
}).pipe(Effect.provide(Database.layer(url, { maxConnections: (workers ?? Simulator.defaultWorkers(rate)) + 2 })))

const exit = await Effect.runPromiseExit(program)
if (Exit.isSuccess(exit)) {
  console.error(`simulate: done. ${describe(exit.value)}`)
  console.error(`simulate: booked by system ${JSON.stringify(exit.value.bySystem)}`)
  console.log(JSON.stringify(exit.value))
} else {
  console.error("simulate: failed", exit.cause)
  process.exitCode = 1
}
