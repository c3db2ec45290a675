// Projector throughput: how fast each consumer group worked through the backlog the CDC
// snapshot of the freshly seeded database put on the streams (sampled from XINFO GROUPS while
// the system started), against the bare stream-read ceiling: XREADGROUP + XACK of the same
// entries by a throw-away group that applies nothing. Then (`profiledProjector`, after the other
// measurements) one projector process alone on the whole backlog, profiled, for the bound.
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import type { BenchContext } from "../Context.ts"
import { fmt, notMeasured } from "../Figures.ts"
import { cpuMeter } from "../Machine.ts"
import { processMeter } from "../Processes.ts"
import * as ProfileSummary from "../ProfileSummary.ts"
import { applyRates, streamKeys, type Sample } from "../Streams.ts"

const TARGET = 20_000

/** Entries per second one Node process reads and acknowledges from `stream` when applying nothing. */
const bareRead = async (ctx: BenchContext, stream: string) => {
  const group = `bench-${randomUUID()}`
  await ctx.redis.sendCommand(["XGROUP", "CREATE", stream, group, "0"])
  try {
    let read = 0
    const started = performance.now()
    const deadline = started + ctx.seconds * 1000
    while (performance.now() < deadline) {
      const reply = (await ctx.redis.sendCommand([
        "XREADGROUP",
        "GROUP",
        group,
        "c",
        "COUNT",
        "500",
        "STREAMS",
        stream,
        ">"
      ])) as Array<[string, Array<[string, Array<string>]>]> | null
      const entries = reply?.[0]?.[1] ?? []
      if (entries.length === 0) break
      // The fields are decoded as a projector would before applying: the envelope's JSON payload.
      for (const [, fields] of entries) {
        const data = fields[fields.indexOf("data") + 1]
        if (data !== undefined) JSON.parse(data)
      }
      await ctx.redis.sendCommand(["XACK", stream, group, ...entries.map(([id]) => id)])
      read += entries.length
    }
    return { read, perSecond: read / ((performance.now() - started) / 1000) }
  } finally {
    await ctx.redis.sendCommand(["XGROUP", "DESTROY", stream, group])
  }
}

export const projectors = async (ctx: BenchContext, samples: ReadonlyArray<Sample>) => {
  const group = "Projectors and CDC"
  const cdcStreams = await streamKeys(ctx.redis, "stream:{s:cdc.*}")
  if (cdcStreams.length === 0) {
    ctx.figures.push(
      notMeasured(
        group,
        "projector throughput",
        "entries/s",
        "no CDC stream in Redis: the CDC connector is not among npm start's processes"
      )
    )
    return
  }
  const lengths = await Promise.all(
    cdcStreams.map(async (s) => ({ stream: s, length: Number(await ctx.redis.sendCommand(["XLEN", s])) }))
  )
  const biggest = lengths.sort((a, b) => b.length - a.length)[0]!
  ctx.say(`bare stream read on ${biggest.stream} (${biggest.length} entries)`)
  const bare = await bareRead(ctx, biggest.stream)
  ctx.figures.push({
    group,
    label: "bare stream read (XREADGROUP + XACK, no apply)",
    value: bare.perSecond,
    unit: "entries/s",
    detail: `${fmt(bare.read, 0)} entries of ${biggest.stream}, 500 per read, one Node process`,
    chart: "stream"
  })
  const rates = applyRates(samples).filter((r) => r.streams.some((s) => cdcStreams.includes(s)) && r.entries > 0)
  if (rates.length === 0) {
    ctx.figures.push(
      notMeasured(
        group,
        "projector throughput",
        "entries/s",
        "no consumer group reads the CDC streams: no projector is among npm start's processes"
      )
    )
  }
  for (const r of rates) {
    // A group that never had much to catch up on was paced by the CDC connector, not by itself.
    const paced = r.peakLag < 5_000
    // No verdict here: while the snapshot lands, every projector, the connector, PostgreSQL and
    // Redis catch up at once on the same cores, so these rates say what the system does at start,
    // not what a projector can do. The per-process target is judged on one process alone
    // (profiledProjector).
    ctx.figures.push({
      group,
      label: `projector "${r.group}" on the snapshot backlog`,
      value: r.perSecond,
      unit: "entries/s",
      detail: `${fmt(r.entries, 0)} entries of ${r.streams.map((s) => /\{s:(.+)\}/.exec(s)?.[1] ?? s).join(", ")} in ${fmt(r.busySeconds, 1)} s; best 2 s ${fmt(r.peakPerSecond, 0)}/s; largest backlog ${fmt(r.peakLag, 0)}${paced ? " (small: the CDC connector set the pace, so this is a lower bound)" : ""}; during start-up, sharing the cores with every other process catching up (the per-process target is judged on one process alone, below)`,
      baseline: { label: "bare stream read", value: bare.perSecond },
      chart: "stream"
    })
  }
  ctx.method.push(
    "Projector throughput: from the moment Redis is up, XINFO GROUPS is sampled every 250 ms; the seeded database's CDC snapshot lands on the `cdc.*` streams as a backlog, and each consumer group's rate is the entries it read while it had a backlog, divided by that time (summed over its streams). " +
      `The baseline is a throw-away consumer group on the largest CDC stream that reads 500 entries at a time, parses their payload and acknowledges them, for at most ${ctx.seconds} s.`
  )
}

const root = fileURLToPath(new URL("../../..", import.meta.url))
const PROFILED_GENERATION = 900

/** Runs projectorDrain.ts in its own process; its one JSON line. */
const drainProcess = (env: Record<string, string>, seconds: number, generation = PROFILED_GENERATION) =>
  new Promise<{
    entries: number
    seconds: number
    perSecond: number
    cores: number
    summary: ProfileSummary.Summary
  }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "scripts/bench/projectorDrain.ts", String(generation), String(seconds)],
      { cwd: root, env: { ...process.env, LOG_LEVEL: "Warn", ...env }, stdio: ["ignore", "pipe", "inherit"] }
    )
    let result: string | undefined
    createInterface({ input: child.stdout! }).on("line", (line) => (result = line))
    child.once("exit", (code) =>
      code === 0 && result ? resolve(JSON.parse(result)) : reject(new Error(`projectorDrain.ts exited with ${code}`))
    )
  })

/**
 * Deletes what the profiled drain wrote: its consumer groups, their partition leases and
 * membership, and its generation's documents.
 */
const removeGeneration = async (ctx: BenchContext, streams: ReadonlyArray<string>, generation: number) => {
  const group = `dashboard.g${generation}`
  for (const stream of streams) await ctx.redis.sendCommand(["XGROUP", "DESTROY", stream, group]).catch(() => 0)
  for (const match of [`*:doc:dashboard:g${generation}`, `*${group}*`]) {
    let cursor = "0"
    do {
      const [next, keys] = (await ctx.redis.sendCommand(["SCAN", cursor, "MATCH", match, "COUNT", "1000"])) as [
        string,
        Array<string>
      ]
      cursor = String(next)
      if (keys.length > 0) await ctx.redis.sendCommand(["DEL", ...keys])
    } while (cursor !== "0")
  }
}

/**
 * One dashboard projector process alone (the system otherwise idle) draining every CDC entry
 * from the start into a throw-away generation, profiled: the per-process rate of target 3, and
 * when it misses, where the time went (the bound).
 */
export const profiledProjector = async (ctx: BenchContext) => {
  const group = "Projectors and CDC"
  const streams = await streamKeys(ctx.redis, "stream:{s:cdc.*}")
  const bare = ctx.figures.find((f) => f.label.startsWith("bare stream read"))
  ctx.say("one dashboard projector process draining every CDC entry from the start, profiled")
  await ctx.redis.sendCommand(["CONFIG", "RESETSTAT"])
  const meter = cpuMeter()
  const perProcess = processMeter(ctx.known)
  const drain = await drainProcess(
    { REDIS_URL: ctx.stack.redis.url, ...partitionsEnv(ctx) },
    Math.max(30, ctx.seconds * 6)
  )
  const cpu = meter()
  const processes = perProcess()
  const redisTop = await redisCommandTime(ctx)
  await removeGeneration(ctx, streams, PROFILED_GENERATION)
  const met = drain.perSecond >= TARGET
  ctx.figures.push({
    group,
    label: "dashboard projector, one process alone, whole CDC backlog (profiled)",
    value: drain.perSecond,
    unit: "entries/s",
    detail:
      `${fmt(drain.entries, 0)} entries in ${fmt(drain.seconds, 1)} s at ${fmt(drain.cores, 2)} cores; ` +
      `profile: ${ProfileSummary.text(drain.summary)}; Redis: ${redisTop}`,
    ...(bare?.value !== undefined ? { baseline: { label: "bare stream read", value: bare.value } } : {}),
    target: {
      text: `at least ${fmt(TARGET, 0)} changes/s per process${met ? "" : `; bound: ${boundText(drain, cpu?.busy)}`}`,
      met
    },
    cpu,
    processes,
    chart: "stream"
  })
  await nativeBackend(ctx, streams, drain.perSecond)
  ctx.method.push(
    "Dashboard projector alone: after the other measurements, `scripts/bench/projectorDrain.ts` runs one dashboard projector in its own process on new consumer groups of a throw-away generation (its documents and groups are deleted afterwards), so it reads every CDC entry from the start of the streams with the rest of the system idle; the rate counts from its first read to the last entry acknowledged; the V8 sampling profiler (0.5 ms) runs meanwhile and gives the split of its busy time (library, GC, idle); Redis's INFO commandstats over the same time gives the server's side."
  )
}

/**
 * The same drain with the document store's native RedisJSON backend, against the Lua backend's
 * rate just measured (target 3: no slower where a server has JSON); not measured on a server
 * without the JSON module.
 */
const nativeBackend = async (ctx: BenchContext, streams: ReadonlyArray<string>, luaPerSecond: number) => {
  const group = "Projectors and CDC"
  const label = "dashboard projector alone, native RedisJSON backend"
  const [jsonGet] = (await ctx.redis.sendCommand(["COMMAND", "INFO", "JSON.GET"])) as Array<unknown>
  if (jsonGet === null || jsonGet === undefined) {
    const [, version] = /redis_version:([^\r\n]+)/.exec(String(await ctx.redis.sendCommand(["INFO", "server"]))) ?? []
    ctx.figures.push(
      notMeasured(
        group,
        label,
        "entries/s",
        `this Redis (${version ?? "unknown version"}) has no JSON module, so the document store runs its Lua backend; run the benchmark on Redis 8 or Redis Stack to compare`
      )
    )
    return
  }
  ctx.say("the same drain with the native RedisJSON backend")
  const generation = PROFILED_GENERATION + 1
  const drain = await drainProcess(
    { REDIS_URL: ctx.stack.redis.url, ...partitionsEnv(ctx), DOCUMENT_STORE_BACKEND: "native" },
    Math.max(30, ctx.seconds * 6),
    generation
  )
  await removeGeneration(ctx, streams, generation)
  ctx.figures.push({
    group,
    label,
    value: drain.perSecond,
    unit: "entries/s",
    detail: `${fmt(drain.entries, 0)} entries in ${fmt(drain.seconds, 1)} s at ${fmt(drain.cores, 2)} cores; profile: ${ProfileSummary.text(drain.summary)}`,
    baseline: { label: "the Lua backend", value: luaPerSecond },
    target: { text: "no slower than the Lua backend", met: drain.perSecond >= luaPerSecond },
    chart: "stream"
  })
}

const boundText = (
  drain: { readonly cores: number; readonly summary: ProfileSummary.Summary },
  busy: number | undefined
) =>
  drain.cores >= 0.8
    ? `the process's one thread (${fmt(drain.cores, 2)} cores; busiest: ${drain.summary.areas
        .slice(0, 3)
        .map((a) => `${a.name} ${(a.share * 100).toFixed(0)}%`)
        .join(", ")})`
    : `not its own code (${fmt(drain.cores, 2)} cores, idle ${(drain.summary.idle * 100).toFixed(0)}% of the time): waiting for Redis or for a core${busy === undefined ? "" : ` (all cores ${(busy * 100).toFixed(0)}% busy meanwhile)`}`

const partitionsEnv = (ctx: BenchContext): Record<string, string> =>
  ctx.stack.env.CDC_PARTITIONS ? { CDC_PARTITIONS: ctx.stack.env.CDC_PARTITIONS } : {}

/** The busiest Redis commands since the last CONFIG RESETSTAT: calls × µs per call. */
const redisCommandTime = async (ctx: BenchContext) => {
  const info = String(await ctx.redis.sendCommand(["INFO", "commandstats"]))
  return [...info.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/g)]
    .map((m) => ({ name: m[1]!, calls: Number(m[2]), usec: Number(m[3]), per: Number(m[4]) }))
    .sort((a, b) => b.usec - a.usec)
    .slice(0, 4)
    .map((c) => `${c.name} ${fmt(c.calls, 0)} × ${fmt(c.per, 1)} µs`)
    .join(", ")
}
