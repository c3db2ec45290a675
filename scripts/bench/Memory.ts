// Redis memory per item, from MEMORY USAGE on the keys the running system really wrote (never a
// synthetic key), next to the bytes of the data itself (the baseline: what the item would cost
// with zero overhead), and extrapolated to a population of customers.
import { IdentityKeys } from "@bank/identity"
import { Keys } from "@bank/platform"
import type { RedisConnection } from "./Streams.ts"

/** A key name with the placeholder ids turned into `*`, built from the project's own key functions. */
const ID = "XbenchidX"
export const patternOf = (key: string): string => key.split(ID).join("*")

export interface KeyKind {
  readonly name: string
  readonly pattern: string
}

export interface KeyStats {
  readonly name: string
  readonly pattern: string
  /** Keys that match, in the whole keyspace. */
  readonly keys: number
  readonly sampled: number
  /** Averages over the sampled keys, bytes. */
  readonly memoryPerKey: number
  readonly payloadPerKey: number
}

export const customerKey = (build: (customerId: string, other: string) => string): string => patternOf(build(ID, ID))

/** The key kinds the benchmark reports on; documents of capabilities not built yet simply match nothing. */
export const kinds = async (): Promise<ReadonlyArray<KeyKind>> => {
  const customer = (id: string) => Keys.customer(id)
  const list: Array<KeyKind> = [
    { name: "access token", pattern: patternOf(IdentityKeys.accessToken(ID)) },
    { name: "refresh token", pattern: patternOf(IdentityKeys.refreshToken(ID)) },
    { name: "login name", pattern: patternOf(IdentityKeys.loginName(ID)) },
    { name: "dashboard document", pattern: customerKey((c) => customer(c).document("dashboard")) },
    { name: "profile document", pattern: customerKey((c) => customer(c).document("profile")) }
  ]
  // Identity's own key layout, when the package is there.
  try {
    const Identity = await import("@bank/identity")
    const k = (c: string) => Identity.SessionStore.keys(c)
    list.push(
      { name: "session document", pattern: customerKey((c, s) => k(c).document(s)) },
      { name: "session index", pattern: customerKey((c) => k(c).index) },
      { name: "session token state", pattern: customerKey((c) => k(c).state) }
    )
    list.push({ name: "credentials", pattern: customerKey((c) => Identity.Credentials.recordKey(c)) })
  } catch {
    // identity not built: its rows stay empty
  }
  return list
}

const scanAll = async (redis: RedisConnection, pattern: string): Promise<Array<string>> => {
  const keys: Array<string> = []
  let cursor = "0"
  do {
    const [next, found] = (await redis.sendCommand(["SCAN", cursor, "MATCH", pattern, "COUNT", "5000"])) as [
      string,
      Array<string>
    ]
    cursor = String(next)
    keys.push(...found.map(String))
  } while (cursor !== "0")
  return keys
}

/** The bytes of the data in `key`, without Redis's overhead. */
const payloadOf = async (redis: RedisConnection, key: string): Promise<number> => {
  const type = String(await redis.sendCommand(["TYPE", key]))
  const bytes = (items: Array<unknown>) => items.reduce<number>((sum, item) => sum + Buffer.byteLength(String(item)), 0)
  switch (type) {
    case "string":
      return Number(await redis.sendCommand(["STRLEN", key]))
    case "hash":
      return bytes((await redis.sendCommand(["HGETALL", key])) as Array<unknown>)
    case "zset": {
      const members = (await redis.sendCommand(["ZRANGE", key, "0", "-1"])) as Array<unknown>
      return bytes(members) + 8 * members.length // a score is a double
    }
    case "set":
      return bytes((await redis.sendCommand(["SMEMBERS", key])) as Array<unknown>)
    case "ReJSON-RL":
      return Buffer.byteLength(String(await redis.sendCommand(["JSON.GET", key])))
    default:
      return 0
  }
}

export const measure = async (redis: RedisConnection, kind: KeyKind, sampleSize = 300): Promise<KeyStats> => {
  const keys = await scanAll(redis, kind.pattern)
  // Spread the sample over the whole set rather than the first keys SCAN happened to return.
  const step = Math.max(1, Math.floor(keys.length / sampleSize))
  const sample = keys.filter((_, i) => i % step === 0).slice(0, sampleSize)
  let memory = 0
  let payload = 0
  let sampled = 0
  for (const key of sample) {
    const usage = await redis.sendCommand(["MEMORY", "USAGE", key, "SAMPLES", "0"])
    if (usage === null) continue // expired meanwhile
    memory += Number(usage)
    payload += await payloadOf(redis, key)
    sampled += 1
  }
  return {
    name: kind.name,
    pattern: kind.pattern,
    keys: keys.length,
    sampled,
    memoryPerKey: sampled ? memory / sampled : 0,
    payloadPerKey: sampled ? payload / sampled : 0
  }
}

export interface PerItem {
  readonly name: string
  /** Bytes of Redis memory per item, and the data's own bytes. */
  readonly memory: number
  readonly payload: number
  readonly measured: boolean
  readonly from: string
}

/** Bytes per session (document plus its share of the per-customer index and token state), per token pair, per document. */
export const perItem = (stats: ReadonlyArray<KeyStats>): ReadonlyArray<PerItem> => {
  const get = (name: string) => stats.find((s) => s.name === name)
  const total = (s: KeyStats | undefined) =>
    s ? { memory: s.memoryPerKey * s.keys, payload: s.payloadPerKey * s.keys } : { memory: 0, payload: 0 }
  const doc = get("session document")
  const sessions = doc?.keys ?? 0
  const shared = [get("session index"), get("session token state")].map(total)
  const session: PerItem = {
    name: "session",
    memory: sessions ? (total(doc).memory + shared[0]!.memory + shared[1]!.memory) / sessions : 0,
    payload: sessions ? (total(doc).payload + shared[0]!.payload + shared[1]!.payload) / sessions : 0,
    measured: sessions > 0,
    from: `${sessions} session documents with their index and token-state entries`
  }
  const single = (item: string, name: string): PerItem => {
    const s = get(name)
    return {
      name: item,
      memory: s?.memoryPerKey ?? 0,
      payload: s?.payloadPerKey ?? 0,
      measured: (s?.sampled ?? 0) > 0,
      from: `${s?.sampled ?? 0} of ${s?.keys ?? 0} keys ${s?.pattern ?? name}`
    }
  }
  const access = single("access token", "access token")
  const refresh = single("refresh token", "refresh token")
  const credentials = [single("credentials", "credentials"), single("login name", "login name")]
  return [
    session,
    access,
    refresh,
    {
      name: "login data (credentials + username)",
      memory: credentials[0]!.memory + credentials[1]!.memory,
      payload: credentials[0]!.payload + credentials[1]!.payload,
      measured: credentials.every((c) => c.measured),
      from: credentials.map((c) => c.from).join("; ")
    },
    single("dashboard document", "dashboard document"),
    single("profile document", "profile document")
  ]
}
