// One dashboard projector, in a process of its own, draining the CDC streams from their start
// into a throw-away read-model generation (its own consumer groups and document keys; readers,
// the generation pointer and the running projectors are untouched), with the V8 profiler on
// for the drain alone (not the start-up): the per-process rate on the snapshot backlog and
// where its time goes. `npm run bench` runs it (measure/Projectors.ts) and removes the
// generation's groups and documents afterwards.
//   node --import tsx scripts/bench/projectorDrain.ts <generation> <max seconds>   → one JSON line
// Reads REDIS_URL and CDC_PARTITIONS like the projector process.
import { Session } from "node:inspector/promises"
import { DashboardProjector } from "@bank/dashboard"
import { DocumentStore, RedisClient, StreamLog } from "@bank/platform"
import { Effect, Layer } from "effect"
import * as ProfileSummary from "./ProfileSummary.ts"
import { connect, sample } from "./Streams.ts"

const generation = Number(process.argv[2] ?? 900)
const maxSeconds = Number(process.argv[3] ?? 60)
const group = DashboardProjector.groupOf(generation)
const redis = await connect(process.env.REDIS_URL!)
const cpuSeconds = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

const projector = DashboardProjector.layer({ generation, announce: () => false }).pipe(
  Layer.provide(Layer.mergeAll(DocumentStore.layerConfig, StreamLog.layer)),
  Layer.provide(RedisClient.layerConfig)
)

const mine = async () => (await sample(redis)).groups.filter((g) => g.group === group)
const session = new Session()
session.connect()
await session.post("Profiler.enable")
await session.post("Profiler.setSamplingInterval", { interval: 500 })
await session.post("Profiler.start")
const started = performance.now()
const cpuBefore = cpuSeconds()
const fiber = Effect.runFork(Layer.launch(projector))
// The rate counts from the first sample that saw entries read (start-up excluded).
let entries = 0
let first: { at: number; entries: number } | undefined
while (performance.now() - started < maxSeconds * 1000) {
  await new Promise((r) => setTimeout(r, 100))
  const groups = await mine()
  entries = groups.reduce((s, g) => s + g.entriesRead, 0)
  if (entries > 0 && first === undefined) first = { at: performance.now(), entries }
  if (entries > 0 && groups.every((g) => g.lag === 0 && g.pending === 0)) break
}
const ended = performance.now()
const cores = (cpuSeconds() - cpuBefore) / ((ended - started) / 1000)
const { profile } = await session.post("Profiler.stop")
const summary = ProfileSummary.summarize(profile as never, 8)
void fiber
const seconds = first ? (ended - first.at) / 1000 : 0
const perSecond = first && seconds > 0 ? (entries - first.entries) / seconds : 0
console.log(JSON.stringify({ group, entries, seconds, perSecond, cores, summary }))
await redis.close()
process.exit(0)
