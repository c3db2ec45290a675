// Projectors that scale out, end to end: the CDC connector on four partitions per system while the
// core-banking simulator writes, three dashboard projector processes sharing the partitions; one
// is SIGKILLed, a new one joins, one is SIGSTOPped past its ownership time and thawed (a zombie).
// Every dashboard write is watched as it is announced: the document's revision and source
// positions never move backwards. Afterwards every dashboard equals the systems of record. Then
// Redis loses all its data (FLUSHALL): the connector takes a new snapshot, and the projectors make
// their consumer groups again and rebuild every dashboard.
import { CdcConnector } from "@bank/cdc"
import { Cdc } from "@bank/contracts"
import { Generator, Simulator } from "@bank/core-banking"
import * as Dashboard from "@bank/dashboard"
import { Reconcile } from "@bank/dashboard"
import { type ChildHandle, startProcess } from "@bank/dashboard/testing"
import { Database, DocumentStore, Keys, PasswordHash, RedisClient } from "@bank/platform"
import { Deferred, Effect, Layer, ManagedRuntime, References } from "effect"
import { createClient } from "redis"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { usePostgres, useRedis } from "@bank/test-kit"

const postgres = usePostgres()
const redisServer = useRedis()
const PARTITIONS = 4
const OWNERSHIP_MS = 1500
const streams = Dashboard.Dashboard.systems.flatMap((system) =>
  Cdc.streams(system, PARTITIONS).map((spec) => spec.name)
)

let runtime: ManagedRuntime.ManagedRuntime<any, any>
let redis: ReturnType<typeof createClient>
const projectors: Array<ChildHandle> = []
const startProjector = () => {
  const p = startProcess("packages/dashboard/src/main.ts", {
    REDIS_URL: redisServer.server.url,
    CDC_PARTITIONS: String(PARTITIONS),
    DASHBOARD_OWNERSHIP_MS: String(OWNERSHIP_MS),
    LOG_LEVEL: "Error"
  })
  projectors.push(p)
  return p
}

beforeAll(async () => {
  const pgUrl = postgres.server.url
  await Effect.runPromise(
    Generator.seed(pgUrl, {
      customers: 24,
      months: 1,
      scrypt: { ...PasswordHash.defaultParams, N: 1024 },
      hashPool: 4,
      progress: false
    }).pipe(Effect.provide(Database.layer(pgUrl)))
  )
  redis = createClient({ url: redisServer.server.url })
  redis.on("error", () => {})
  await redis.connect()
  runtime = ManagedRuntime.make(
    Layer.mergeAll(
      CdcConnector.layer({
        databaseUrl: pgUrl,
        metricsPort: 0,
        slot: "scaleout_e2e",
        publication: "scaleout_e2e",
        partitions: PARTITIONS,
        lagIntervalMs: 1000
      }),
      DocumentStore.layer
    ).pipe(
      Layer.provideMerge(Layer.mergeAll(RedisClient.layer(redisServer.server.url), Database.layer(pgUrl))),
      Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
    )
  )
  await runtime.runPromise(Effect.void)
}, 120_000)
afterAll(async () => {
  await Promise.all(projectors.map((p) => (p.child.signalCode === "SIGSTOP" ? p.kill() : p.stop())))
  await runtime?.dispose()
  await redis?.close()
})

const mismatches = () => runtime.runPromise(Reconcile.reconcile({ recheckAfterMs: 0 })).then((r) => r.mismatches)

/** Which process (pid) holds each partition's lease now. */
const owners = async () => {
  const holders = await Promise.all(streams.map((s) => redis.get(Keys.streamLease(s, "dashboard"))))
  return holders.map((h) => (h === null ? undefined : Number(/-(\d+)-[0-9a-f]+$/.exec(h)?.[1])))
}
const pidsOwning = async () => new Set((await owners()).filter((p): p is number => p !== undefined))
const allOwnedBy = async (pids: ReadonlyArray<number>) => {
  const now = await owners()
  return now.every((p) => p !== undefined && pids.includes(p)) && pids.every((p) => now.includes(p))
}

/**
 * Watches every write as it is announced on `dashboard.changes`: reads the document then and
 * records any revision or source position lower than one seen before for that customer.
 */
const watchWrites = async () => {
  const client = createClient({ url: redisServer.server.url })
  client.on("error", () => {})
  await client.connect()
  const seen = new Map<string, { revision: string; positions: Record<string, string> }>()
  const backwards: Array<string> = []
  const revisions = new Map<string, Set<string>>()
  let writes = 0
  let running = true
  let last = "$"
  const loop = (async () => {
    while (running) {
      const reply = (await client
        .sendCommand(["XREAD", "COUNT", "500", "BLOCK", "200", "STREAMS", Keys.stream("dashboard.changes"), last])
        .catch(() => null)) as Array<[string, Array<[string, Array<string>]>]> | null
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        last = id
        const data = JSON.parse(fields[fields.indexOf("data") + 1]!) as { customerId: string; revision: string }
        writes++
        const announced = revisions.get(data.customerId) ?? new Set()
        if (announced.has(data.revision))
          backwards.push(`customer ${data.customerId}: revision ${data.revision} written twice`)
        announced.add(data.revision)
        revisions.set(data.customerId, announced)
        const raw = await client.get(Dashboard.DashboardProjector.documentKey(data.customerId))
        if (raw === null) continue
        const doc = JSON.parse(raw) as Dashboard.Dashboard.DashboardDocument
        const before = seen.get(data.customerId)
        const positions = Object.fromEntries(Object.entries(doc.sources).map(([system, s]) => [system, s!.position]))
        if (before) {
          if (doc.revision < before.revision)
            backwards.push(`customer ${data.customerId}: revision ${before.revision} → ${doc.revision}`)
          for (const [system, position] of Object.entries(before.positions)) {
            if ((positions[system] ?? "") < position)
              backwards.push(`customer ${data.customerId}: ${system} position ${position} → ${positions[system]}`)
          }
        }
        seen.set(data.customerId, { revision: doc.revision, positions })
      }
    }
  })()
  return {
    writes: () => writes,
    backwards: () => backwards,
    /** Forgets what it saw (after Redis lost its data, documents start again from revision 1). */
    reset: () => {
      seen.clear()
      revisions.clear()
      last = "0"
    },
    stop: async () => {
      running = false
      await loop
      await client.close()
    }
  }
}

describe("dashboard projectors scaling out", () => {
  it("share the partitions, survive a kill, a new process and a frozen one, and never move a document backwards", async () => {
    const watch = await watchWrites()
    const [a, b, c] = [startProjector(), startProjector(), startProjector()]
    const pid = (p: ChildHandle) => p.child.pid!
    // The snapshot applied by three processes, each owning some of the 16 partitions.
    await vi.waitFor(async () => expect(await allOwnedBy([pid(a), pid(b), pid(c)])).toBe(true), {
      timeout: 60_000,
      interval: 200
    })
    await vi.waitFor(async () => expect(await mismatches()).toEqual([]), { timeout: 90_000, interval: 500 })

    const stop = Deferred.makeUnsafe<void>()
    let booked = 0
    const simulation = runtime.runPromise(
      Simulator.run({
        rate: 40,
        durationMs: 120_000,
        stop,
        seed: "scaleout",
        reportEveryMs: 200,
        onReport: (s) => void (booked = s.booked)
      })
    )
    const bookedMore = async (n: number) => {
      const from = booked
      await vi.waitFor(() => expect(booked).toBeGreaterThan(from + n), { timeout: 30_000, interval: 50 })
    }
    await bookedMore(20)

    // A crash: its partitions go to the others once its leases lapse; a new process joins.
    await a.kill()
    const d = startProjector()
    await vi.waitFor(async () => expect(await allOwnedBy([pid(b), pid(c), pid(d)])).toBe(true), {
      timeout: 60_000,
      interval: 200
    })
    await bookedMore(20)

    // A zombie: frozen past its ownership time, its partitions move; thawed, it must not write
    // anything older over what its successors wrote, and it gets a share again.
    b.child.kill("SIGSTOP")
    await vi.waitFor(async () => expect((await pidsOwning()).has(pid(b))).toBe(false), {
      timeout: 30_000,
      interval: 100
    })
    await vi.waitFor(async () => expect(await allOwnedBy([pid(c), pid(d)])).toBe(true), {
      timeout: 30_000,
      interval: 100
    })
    await bookedMore(20)
    b.child.kill("SIGCONT")
    await vi.waitFor(async () => expect(await allOwnedBy([pid(b), pid(c), pid(d)])).toBe(true), {
      timeout: 60_000,
      interval: 200
    })
    await bookedMore(20)

    Deferred.doneUnsafe(stop, Effect.void)
    const activity = await simulation
    expect(activity.booked).toBeGreaterThan(80)
    await vi.waitFor(async () => expect(await mismatches()).toEqual([]), { timeout: 90_000, interval: 500 })
    for (const stream of streams) {
      const [pending] = (await redis.sendCommand(["XPENDING", Keys.stream(stream), "dashboard"])) as [number]
      expect(Number(pending), stream).toBe(0)
    }
    await watch.stop()
    expect(watch.writes()).toBeGreaterThan(activity.booked / 2)
    expect(watch.backwards()).toEqual([])
  }, 420_000)

  it("make their consumer groups again after Redis lost its data, and rebuild every dashboard", async () => {
    await redis.flushAll()
    // The connector notices the lost snapshot marker, takes a new snapshot; the projectors recover from NOGROUP.
    await vi.waitFor(async () => expect(await redis.exists(Keys.global("cdc:scaleout_e2e:snapshot"))).toBe(1), {
      timeout: 60_000,
      interval: 200
    })
    await vi.waitFor(
      async () => {
        const groups = await Promise.all(
          streams.map(
            (s) => redis.sendCommand(["XINFO", "GROUPS", Keys.stream(s)]).catch(() => []) as Promise<Array<unknown>>
          )
        )
        expect(groups.every((g) => g.length === 1)).toBe(true)
      },
      { timeout: 60_000, interval: 200 }
    )
    await vi.waitFor(
      async () => {
        const r = await runtime.runPromise(Reconcile.reconcile({ recheckAfterMs: 0 }))
        expect(r.mismatches).toEqual([])
        expect(r.checked).toBe(24)
      },
      { timeout: 90_000, interval: 500 }
    )
  }, 240_000)
})
