// Helpers of the CDC integration tests and the benchmark: a database per test, the connector
// in-process or as a child process, the streams read back, and a consumer's view of them
// (the tables rebuilt from the entries, dropping redeliveries with `Cdc.isNewer`).
import { Cdc } from "@bank/contracts"
import { Envelope, Keys, RedisClient } from "@bank/platform"
import { Context, Effect, Exit, Layer, References, Scope } from "effect"
import pg from "pg"
import * as CdcConnector from "../CdcConnector.ts"
import { SESSION_OPTIONS } from "../PgConnection.ts"
import { type ChildHandle, connectRedis, type StartOptions, startProcess, type TestRedisClient } from "@bank/test-kit"

export const waitUntil = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** A client whose values are PostgreSQL's text output with the connector's session settings. */
export const textClient = async (url: string) => {
  const client = new pg.Client({
    connectionString: url,
    options: SESSION_OPTIONS,
    types: { getTypeParser: () => (v: string) => v } as pg.CustomTypesConfig
  })
  client.on("error", () => {}) // a server restarted by a test: the next query reports it
  await client.connect()
  return client
}

/** A new, empty database on the server of `adminUrl`; returns its URL. */
export const createDatabase = async (adminUrl: string, name: string) => {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`)
  } finally {
    await admin.end()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

export interface RunningConnector {
  readonly connector: CdcConnector.CdcConnector["Service"]
  readonly stop: () => Promise<void>
}

/** Runs the connector in this process until `stop` (graceful shutdown); one partition per system unless told. */
export const startConnector = async (
  redisUrl: string,
  options: Partial<CdcConnector.CdcOptions> & Pick<CdcConnector.CdcOptions, "databaseUrl">
): Promise<RunningConnector> => {
  const scope = await Effect.runPromise(Scope.make())
  const layer = CdcConnector.layer({ metricsPort: 0, lagIntervalMs: 500, partitions: 1, ...options }).pipe(
    Layer.provide(RedisClient.layer(redisUrl)),
    Layer.provide(Layer.succeed(References.MinimumLogLevel, "Warn"))
  )
  const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
  return {
    connector: Context.get(context, CdcConnector.CdcConnector),
    stop: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

export type ConnectorProcess = ChildHandle

/** Runs packages/cdc/src/main.ts as its own process (from another checkout with `options.cwd`). */
export const spawnConnector = (env: Record<string, string>, options: StartOptions = {}): ConnectorProcess =>
  startProcess("packages/cdc/src/main.ts", { CDC_METRICS_PORT: "0", CDC_PARTITIONS: "1", ...env }, options)

type RedisConnection = TestRedisClient

/** A node-redis client that survives a Redis restarted by a test (it reconnects). */
export const redisClient = async (url: string): Promise<RedisConnection> => {
  return connectRedis(url)
}

export interface Entry {
  readonly entryId: string
  readonly key: string
  readonly payload: Cdc.CdcMessage
}

/** Every entry of the system's stream (`partitions` of them), decoded with the stream's contract. */
export const readEntries = async (redis: RedisConnection, system: string, partitions = 1): Promise<Array<Entry>> => {
  const all = await Promise.all(Cdc.streams(system, partitions).map((spec) => readPartition(redis, spec)))
  return all.flat()
}

const readPartition = async (redis: RedisConnection, spec: ReturnType<typeof Cdc.stream>): Promise<Array<Entry>> => {
  const entries: Array<Entry> = []
  let from = "-"
  while (true) {
    const page = (await redis.sendCommand(["XRANGE", Keys.stream(spec.name), from, "+", "COUNT", "5000"])) as Array<
      [string, Array<string>]
    >
    for (const [entryId, fields] of page) {
      const decoded = await Effect.runPromise(Envelope.decode(spec, entryId, fields, 0))
      entries.push({ entryId, key: decoded.key, payload: decoded.payload })
    }
    if (page.length < 5000) return entries
    const [ms, seq] = page.at(-1)![0].split("-")
    from = `${ms}-${BigInt(seq!) + 1n}`
  }
}

/** The entries of several systems' streams. */
export const readStreams = async (redis: RedisConnection, systems: ReadonlyArray<string>) =>
  new Map(await Promise.all(systems.map(async (s) => [s, await readEntries(redis, s)] as const)))

export const rowChanges = (entries: ReadonlyArray<Entry>) =>
  entries.map((e) => e.payload).filter((p): p is Cdc.RowChanged => p._tag === "RowChanged")

export const keyOf = (key: Cdc.Row): string =>
  JSON.stringify(Object.entries(key).sort(([a], [b]) => a.localeCompare(b)))

export interface Rebuilt {
  /** "schema.table" → primary key (keyOf) → row. */
  readonly tables: Map<string, Map<string, Cdc.Row>>
  readonly applied: number
  /** Entries dropped because their position was not newer than one already applied. */
  readonly duplicates: number
}

/** What a consumer applying the streams in order (dropping redeliveries) ends up with. */
export const rebuild = (streams: ReadonlyMap<string, ReadonlyArray<Entry>>): Rebuilt => {
  const tables = new Map<string, Map<string, Cdc.Row>>()
  const tableOf = (name: string) => {
    let table = tables.get(name)
    if (!table) tables.set(name, (table = new Map()))
    return table
  }
  let applied = 0
  let duplicates = 0
  for (const [system, entries] of streams) {
    let last: Cdc.Position | undefined
    let snapshotLsn: string | undefined
    for (const { payload } of entries) {
      // A new snapshot starts over, whatever its position (see contracts/Cdc.ts).
      if (payload._tag === "SnapshotStarted" && payload.commitLsn !== snapshotLsn) {
        snapshotLsn = payload.commitLsn
        last = undefined
      }
      if (!Cdc.isNewer(payload, last)) {
        duplicates++
        continue
      }
      last = payload
      applied++
      // A new snapshot supersedes whatever this system's tables held.
      if (payload._tag === "SnapshotStarted")
        for (const [name, table] of tables) if (name.startsWith(`${system}.`)) table.clear()
      if (payload._tag !== "RowChanged") continue
      const table = tableOf(`${payload.schema}.${payload.table}`)
      switch (payload.op) {
        case "truncate":
          table.clear()
          break
        case "delete":
          table.delete(keyOf(payload.key))
          break
        default: {
          if (payload.op === "update" && payload.old) {
            const oldKey = Object.fromEntries(Object.keys(payload.key).map((k) => [k, payload.old![k] ?? null]))
            if (keyOf(oldKey) !== keyOf(payload.key)) table.delete(keyOf(oldKey))
          }
          const before = table.get(keyOf(payload.key)) ?? {}
          const kept = Object.fromEntries((payload.unchanged ?? []).map((c) => [c, before[c] ?? null]))
          table.set(keyOf(payload.key), { ...kept, ...payload.new })
        }
      }
    }
  }
  return { tables, applied, duplicates }
}

/** A table's current rows, keyed like `rebuild` keys them. */
export const tableRows = async (db: pg.Client, table: string, primaryKey: ReadonlyArray<string>) => {
  const { rows } = await db.query(`SELECT * FROM ${table}`)
  return new Map(
    (rows as Array<Cdc.Row>).map((row) => [keyOf(Object.fromEntries(primaryKey.map((k) => [k, row[k] ?? null]))), row])
  )
}
