// Projector throughput: how fast each consumer group worked through the backlog the CDC
// snapshot of the freshly seeded database put on the streams (sampled from XINFO GROUPS while
// the system started), against the bare stream-read ceiling: XREADGROUP + XACK of the same
// entries by a throw-away group that applies nothing.
import { randomUUID } from "node:crypto"
import type { BenchContext } from "../Context.ts"
import { fmt, notMeasured } from "../Figures.ts"
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
    ctx.figures.push({
      group,
      label: `projector "${r.group}" on the snapshot backlog`,
      value: r.perSecond,
      unit: "entries/s",
      detail: `${fmt(r.entries, 0)} entries of ${r.streams.map((s) => /\{s:(.+)\}/.exec(s)?.[1] ?? s).join(", ")} in ${fmt(r.busySeconds, 1)} s; best 2 s ${fmt(r.peakPerSecond, 0)}/s; largest backlog ${fmt(r.peakLag, 0)}${paced ? " (small: the CDC connector set the pace, so this is a lower bound)" : ""}`,
      baseline: { label: "bare stream read", value: bare.perSecond },
      // A paced group's rate says nothing about what it could do: no verdict.
      ...(paced
        ? {}
        : { target: { text: `at least ${fmt(TARGET, 0)} changes/s per process`, met: r.perSecond >= TARGET } }),
      chart: "stream"
    })
  }
  ctx.method.push(
    "Projector throughput: from the moment Redis is up, XINFO GROUPS is sampled every 250 ms; the seeded database's CDC snapshot lands on the `cdc.*` streams as a backlog, and each consumer group's rate is the entries it read while it had a backlog, divided by that time (summed over its streams). " +
      `The baseline is a throw-away consumer group on the largest CDC stream that reads 500 entries at a time, parses their payload and acknowledges them, for at most ${ctx.seconds} s.`
  )
}
