// What the actors are doing, read from Redis alone: every stream (`stream:*`), every consumer
// group on it, how far it has read and how far behind it is. The benchmark uses it to wait until
// the system has digested its data (every group caught up) and to measure how fast each group
// applied a backlog, without knowing anything about the group's code.
import { createClient } from "redis"

export type RedisConnection = ReturnType<typeof createClient>

export interface GroupState {
  readonly stream: string
  readonly group: string
  readonly entriesRead: number
  /** Entries not yet delivered to the group (Redis 7's `lag`, or from the ids when unknown). */
  readonly lag: number
  readonly pending: number
}

export interface Sample {
  /** performance.now() of the sample, ms. */
  readonly at: number
  readonly groups: ReadonlyArray<GroupState>
}

const pairs = (reply: unknown): Record<string, unknown> => {
  if (!Array.isArray(reply)) return (reply ?? {}) as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1]
  return out
}

export const connect = async (url: string): Promise<RedisConnection> => {
  const client = createClient({ url })
  client.on("error", () => {})
  await client.connect()
  return client
}

export const streamKeys = async (redis: RedisConnection, match = "stream:*"): Promise<Array<string>> => {
  const keys: Array<string> = []
  let cursor = "0"
  do {
    const [next, found] = (await redis.sendCommand([
      "SCAN",
      cursor,
      "MATCH",
      match,
      "TYPE",
      "stream",
      "COUNT",
      "1000"
    ])) as [string, Array<string>]
    cursor = String(next)
    keys.push(...found.map(String))
  } while (cursor !== "0")
  return keys.sort()
}

export const sample = async (redis: RedisConnection): Promise<Sample> => {
  const groups: Array<GroupState> = []
  for (const stream of await streamKeys(redis)) {
    const info = pairs(await redis.sendCommand(["XINFO", "STREAM", stream]))
    const length = Number(info.length ?? 0)
    const lastId = String(info["last-generated-id"] ?? "0-0")
    for (const raw of (await redis.sendCommand(["XINFO", "GROUPS", stream])) as Array<unknown>) {
      const g = pairs(raw)
      const entriesRead = g["entries-read"] == null ? 0 : Number(g["entries-read"])
      const lag =
        g.lag == null
          ? String(g["last-delivered-id"]) === lastId
            ? 0
            : Math.max(1, length - entriesRead)
          : Number(g.lag)
      groups.push({ stream, group: String(g.name), entriesRead, lag, pending: Number(g.pending ?? 0) })
    }
  }
  return { at: performance.now(), groups }
}

export const caughtUp = (s: Sample): boolean => s.groups.every((g) => g.lag === 0 && g.pending === 0)

/**
 * Samples every `everyMs` until every group has been caught up on three samples in a row;
 * resolves with all samples (for `applyRates`). Throws after `timeoutMs`.
 */
export const waitCaughtUp = async (
  redis: RedisConnection,
  options: { readonly timeoutMs: number; readonly everyMs?: number }
): Promise<Array<Sample>> => {
  const samples: Array<Sample> = []
  const deadline = performance.now() + options.timeoutMs
  let streak = 0
  while (streak < 3) {
    if (performance.now() > deadline) {
      const behind = samples.at(-1)?.groups.filter((g) => g.lag > 0 || g.pending > 0) ?? []
      throw new Error(
        `consumer groups not caught up within ${options.timeoutMs / 1000} s: ${behind.map((g) => `${g.group}@${g.stream} lag ${g.lag} pending ${g.pending}`).join(", ")}`
      )
    }
    const s = await sample(redis)
    samples.push(s)
    streak = caughtUp(s) ? streak + 1 : 0
    await new Promise((r) => setTimeout(r, options.everyMs ?? 250))
  }
  return samples
}

export interface ApplyRate {
  readonly group: string
  readonly streams: ReadonlyArray<string>
  /** Entries the group read over the samples. */
  readonly entries: number
  /** The most it had still to read at any sample: small means the producer, not the group, set the pace. */
  readonly peakLag: number
  /** Entries per second over the seconds it had a backlog. */
  readonly perSecond: number
  /** Best rate over any `windowMs` window. */
  readonly peakPerSecond: number
  readonly busySeconds: number
}

/** Per consumer group (summed over its streams): how fast it worked through its backlog. */
export const applyRates = (samples: ReadonlyArray<Sample>, windowMs = 2000): Array<ApplyRate> => {
  const names = [...new Set(samples.flatMap((s) => s.groups.map((g) => g.group)))]
  return names.map((group) => {
    const series = samples.map((s) => {
      const mine = s.groups.filter((g) => g.group === group)
      return {
        at: s.at,
        read: mine.reduce((sum, g) => sum + g.entriesRead, 0),
        lag: mine.reduce((sum, g) => sum + g.lag + g.pending, 0)
      }
    })
    let busyMs = 0
    let busyEntries = 0
    let peak = 0
    for (let i = 1; i < series.length; i++) {
      const a = series[i - 1]!
      const b = series[i]!
      if (a.lag > 0 || b.read > a.read) {
        busyMs += b.at - a.at
        busyEntries += b.read - a.read
      }
      const start = series.findLast((p) => p.at <= b.at - windowMs)
      if (start) peak = Math.max(peak, ((b.read - start.read) * 1000) / (b.at - start.at))
    }
    const streams = [...new Set(samples.flatMap((s) => s.groups.filter((g) => g.group === group).map((g) => g.stream)))]
    return {
      group,
      streams,
      entries: series.length > 0 ? series.at(-1)!.read - series[0]!.read : 0,
      peakLag: Math.max(0, ...series.map((p) => p.lag)),
      perSecond: busyMs > 0 ? (busyEntries * 1000) / busyMs : 0,
      peakPerSecond: peak,
      busySeconds: busyMs / 1000
    }
  })
}
