// Rebuilding and replaying the read models on the real pipeline: generated systems of record in
// PostgreSQL, the CDC connector, the dashboard and profile projectors and the identity process's
// credentials projection each following its generation pointer, identity and the edge over real
// HTTP, the activity simulator writing throughout, and readers resolving documents the way
// GET /v1/dashboard does. Then the documents are compared with what PostgreSQL says. The last
// test rebuilds every rebuildable read model with the one command (scripts/rebuild.ts, a child
// process) while customers log in, use their tokens and read their dashboards, profiles and the
// reference data, and the reference data itself changes.
import * as DashboardApi from "@bank/dashboard"
import { Dashboard, DashboardProjector, PgDashboard, Reconcile } from "@bank/dashboard"
import { Cdc } from "@bank/contracts"
import type { Routes } from "@bank/http"
import { EdgeServer, StepUp } from "@bank/http"
import * as Identity from "@bank/identity"
import * as Prefetch from "@bank/prefetch"
import * as Profile from "@bank/profile"
import { Database, DocumentStore, Keys, PasswordHash, ReadModel, RedisClient, StreamLog } from "@bank/platform"
import { CdcConnector } from "@bank/cdc"
import { Generator, Simulator } from "@bank/core-banking"
import { Deferred, Effect, Fiber, Layer, ManagedRuntime, Option, References } from "effect"
import { Redis } from "effect/persistence/Redis"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { dashboard, rebuildable as rebuildableModels } from "../scripts/lib/readModels.ts"
import { Rebuild, Replay } from "@bank/cdc"
const { rebuild } = Rebuild
const { replay } = Replay
type RebuildProgress = Rebuild.RebuildProgress
import { usePostgres, useRedis } from "@bank/test-kit"

const postgres = usePostgres()
const redisServer = useRedis()
const cdc = { slot: "rebuild_e2e", publication: "rebuild_e2e" }

let runtime: ManagedRuntime.ManagedRuntime<any, any>
const run = <A>(effect: Effect.Effect<A, any, any>): Promise<A> =>
  runtime.runPromise(effect.pipe(Effect.provideService(References.MinimumLogLevel, "Error")))
let customers: Array<string> = []
let base = ""

const identitySettings = Identity.IdentityConfig.make({
  keys: Identity.Secrets.deriveKeys(randomBytes(32)),
  accessTokenTtlMs: 600_000,
  activityCoalesceMs: 60_000,
  dummyHashCost: 1024,
  // Logins in a loop from one address: neither throttled nor evicting the sessions whose tokens are in use.
  usernameRateLimit: 1_000_000,
  addressRateLimit: 1_000_000,
  maxSessions: 1_000_000
})
const routes: ReadonlyArray<
  Routes<
    Identity.RouteServices | DashboardApi.RouteServices | Profile.RouteServices | Prefetch.RouteServices,
    Identity.ProblemTag | DashboardApi.ProblemTag | Profile.ProblemTag | Prefetch.ProblemTag
  >
> = [
  (app, run) => {
    app.use("/v1/*", Identity.tokenCheck(run))
  },
  Identity.identityRoutes,
  DashboardApi.dashboardRoutes(),
  Profile.profileRoutes,
  Prefetch.prefetchRoutes
]

beforeAll(async () => {
  const pgUrl = postgres.server.url
  await Effect.runPromise(
    Generator.seed(pgUrl, {
      customers: 6,
      months: 1,
      scrypt: { ...PasswordHash.defaultParams, N: 1024 },
      hashPool: 2,
      progress: false
    }).pipe(Effect.provide(Database.layer(pgUrl)))
  )
  // The projector as a projector process runs it: following the read model's pointer.
  const projector = Layer.effectDiscard(
    ReadModel.follow(DashboardProjector.readModel, (generation) =>
      DashboardProjector.run({ generation, ownershipMs: 1000 })
    )
  )
  // The edge with identity's, the dashboard's and the profile's routes; identity's actors (the
  // credentials projection follows its pointer); the profile projector as the profile process runs
  // it; the reference data's actor as the prefetch process runs it.
  const edge = EdgeServer.layer({
    port: 0,
    hostname: "127.0.0.1",
    problems: { ...Identity.problems, ...DashboardApi.problems, ...Profile.problems, ...Prefetch.problems },
    routes
  }).pipe(
    Layer.provide(Layer.mergeAll(Identity.edgeLayer, Profile.edgeLayer, DashboardApi.edgeLayer, Prefetch.edgeLayer))
  )
  runtime = ManagedRuntime.make(
    Layer.mergeAll(
      projector,
      Profile.ProfileProjector.layerFollowing,
      Prefetch.PrefetchActor.referenceLayer,
      Identity.actorsLayer,
      edge
    ).pipe(
      Layer.provideMerge(
        Layer.mergeAll(
          CdcConnector.layer({ databaseUrl: pgUrl, metricsPort: 0, ...cdc }),
          DocumentStore.layer,
          StreamLog.layer,
          ReadModel.layer()
        )
      ),
      Layer.provide(Identity.IdentityConfig.layer(identitySettings)),
      Layer.provide(StepUp.layer()),
      // What npm start runs as several processes, each with its own reserved connections (blocking
      // reads, durable writes), shares one process here: a rebuild's projector on top of them all
      // would exhaust the 64 one process gets by default.
      Layer.provideMerge(
        Layer.mergeAll(RedisClient.layer(redisServer.server.url, { maxConnections: 256 }), Database.layer(pgUrl))
      ),
      Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
    )
  )
  base = `http://127.0.0.1:${await run(EdgeServer.EdgeServer.useSync((s) => s.port))}`
  const expected = await run(
    Database.Database.use((db) =>
      db.query<{ id: string }>("SELECT customer_id::text AS id FROM customer.customers ORDER BY customer_id")
    ).pipe(Effect.flatMap((rows) => PgDashboard.assembleMany(rows.map((r) => r.id))))
  )
  customers = [...expected.values()].filter((d) => d.accounts.length > 0).map((d) => d.customerId)
  await vi.waitFor(async () => expect(await mismatches()).toEqual([]), { timeout: 60_000, interval: 250 })
}, 180_000)
afterAll(async () => {
  await runtime?.dispose()
})

const mismatches = () => run(Reconcile.reconcile({ recheckAfterMs: 0 })).then((r) => r.mismatches)

/** What GET /v1/dashboard reads: the document of the generation readers use, resolved once. */
const read = (customerId: string) =>
  run(
    Effect.gen(function* () {
      const readModel = yield* ReadModel.ReadModel
      const generation = yield* readModel.current(DashboardProjector.readModel)
      const store = yield* DocumentStore.DocumentStore
      const raw = yield* store.getRaw(DashboardProjector.documentKey(customerId, generation))
      return { generation, raw: Option.getOrUndefined(raw) }
    })
  )

const allDocuments = () =>
  Promise.all(customers.map(async (id) => [id, (await read(id)).raw] as const)).then((entries) => new Map(entries))

const cliEnv = { ...process.env, REDIS_URL: "", DATABASE_URL: "", CDC_SLOT: cdc.slot, CDC_PUBLICATION: cdc.publication }
/** Runs a script as an operator would; asynchronously, since the connector and projector run in this process. */
const cli = (script: string, ...args: Array<string>) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      cwd: new URL("..", import.meta.url),
      env: { ...cliEnv, REDIS_URL: redisServer.server.url, DATABASE_URL: postgres.server.url },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => void (stdout += chunk))
    child.stderr.on("data", (chunk) => void (stderr += chunk))
    child.once("close", (status) => resolve({ status, stdout, stderr }))
  })

const redis = <A>(...command: [string, ...Array<string>]) => run(Redis.use((r) => r.send<A>(...command)))

describe("rebuilding the dashboard read model", () => {
  it("builds a new generation under live traffic, switches readers without a gap, and ends equal to the systems of record", async () => {
    const stopWriter = await run(Deferred.make<void>())
    let booked = 0
    const writer = await run(
      Effect.forkDetach(
        Simulator.run({
          rate: 20,
          workers: 2,
          stop: stopWriter,
          seed: "rebuild",
          reportEveryMs: 100,
          onReport: (s) => void (booked = s.booked)
        })
      )
    )
    await vi.waitFor(() => expect(booked).toBeGreaterThan(5), { timeout: 10_000 })
    const bookedBefore = booked
    // Readers throughout: each read must find a whole document of one generation.
    const problems: Array<string> = []
    const firstSeen = new Map<number, number>()
    let reads = 0
    let reading = true
    const reader = (async () => {
      while (reading) {
        for (const id of customers) {
          const { generation, raw } = await read(id)
          reads++
          if (!firstSeen.has(generation)) firstSeen.set(generation, Date.now())
          const doc = raw === undefined ? undefined : (JSON.parse(raw) as Dashboard.DashboardDocument)
          if (
            doc?.customerId !== id ||
            !Array.isArray(doc.accounts) ||
            doc.accounts.length === 0 ||
            !Array.isArray(doc.latestTransactions)
          ) {
            problems.push(
              `generation ${generation}, customer ${id}: ${raw === undefined ? "missing" : raw.slice(0, 200)}`
            )
          }
        }
        await new Promise((r) => setTimeout(r, 5))
      }
    })()

    const events: Array<RebuildProgress> = []
    const summary = await run(
      rebuild(dashboard, {
        databaseUrl: postgres.server.url,
        ...cdc,
        partitions: Cdc.defaultPartitions,
        graceMs: 1500,
        catchUpTimeoutMs: 60_000,
        pageSize: 50,
        onProgress: (e) => void events.push(e)
      })
    )
    // A change after the rebuild is over must reach the new generation too (the projector took it over).
    const [account] = await run(
      Database.Database.use((db) =>
        db.query<{ id: string; customer: string }>(
          "UPDATE deposits.accounts SET balance = balance + 1, available_balance = available_balance + 1 " +
            "WHERE account_id = (SELECT min(account_id) FROM deposits.accounts) RETURNING account_id::text AS id, customer_id::text AS customer"
        )
      )
    )
    await run(Deferred.succeed(stopWriter, undefined))
    const activity = await run(Fiber.join(writer))
    reading = false
    await reader

    expect(summary).toMatchObject({ readModel: "dashboard", from: 1, to: 2, deletedGroups: 4 * Cdc.defaultPartitions })
    expect(summary.snapshotRows).toBeGreaterThan(customers.length)
    expect(summary.deletedDocuments).toBe(customers.length)
    expect(activity.booked).toBeGreaterThan(bookedBefore + 5)
    expect(events.map((e) => e.step)).toEqual(
      expect.arrayContaining(["start", "snapshot", "snapshot-done", "switched", "cleanup"])
    )
    expect(problems).toEqual([])
    expect(reads).toBeGreaterThan(customers.length * 20)
    // Readers moved to generation 2 within a second of the switch, and never back.
    expect(firstSeen.get(2)! - summary.switchedAt).toBeLessThan(1000)
    expect(await run(ReadModel.generation("dashboard"))).toBe(2)
    // Equal to the dashboards assembled from scratch out of PostgreSQL, the last change included.
    await vi.waitFor(async () => expect(await mismatches()).toEqual([]), { timeout: 30_000, interval: 250 })
    const changed = JSON.parse((await read(account!.customer)).raw!) as Dashboard.DashboardDocument
    const expected = await run(PgDashboard.assemble(account!.customer))
    expect(changed.accounts.find((a) => a.id === `deposits:${account!.id}`)?.balance).toEqual(
      expected.accounts.find((a) => a.id === `deposits:${account!.id}`)?.balance
    )
    // Generation 1 is gone: documents and consumer groups.
    for (const id of customers) expect(await redis<number>("EXISTS", DashboardProjector.documentKey(id, 1))).toBe(0)
    for (const spec of Dashboard.systems.flatMap((system) => Cdc.streams(system, Cdc.defaultPartitions))) {
      const groups = await redis<Array<Array<unknown>>>("XINFO", "GROUPS", Keys.stream(spec.name))
      expect(groups.map((g) => String(g[1])).filter((g) => g.startsWith("dashboard"))).toEqual(["dashboard.g2"])
    }
  })

  it("repairs a lost document by replaying the streams, and a second replay changes nothing", async () => {
    const lost = customers[0]!
    const generation = await run(ReadModel.generation("dashboard"))
    await redis("DEL", DashboardProjector.documentKey(lost, generation))
    const replayAll = () =>
      run(
        Effect.forEach(
          dashboard.sources.flatMap((system) => Cdc.streams(system, Cdc.defaultPartitions)),
          (spec) => replay(dashboard, { stream: spec.name, from: "-" })
        )
      )

    const repaired = await replayAll()
    expect(repaired.reduce((n, s) => n + s.changed, 0)).toBeGreaterThan(0)
    const doc = JSON.parse((await read(lost)).raw!) as Dashboard.DashboardDocument
    expect(Reconcile.compare(await run(PgDashboard.assemble(lost)), doc)).toEqual([])

    const before = await allDocuments()
    const again = await replayAll()
    expect(again.every((s) => s.changed === 0)).toBe(true)
    expect(again.every((s) => s.entries > 0 && s.undecodable === 0 && s.unfinishedRows === 0)).toBe(true)
    // The command-line script, as an operator runs it.
    const replayed = await cli("scripts/replay.ts", "cdc.deposits.p0", "--from", "-", "--into", "dashboard", "--json")
    expect(replayed.status, replayed.stderr).toBe(0)
    expect(JSON.parse(replayed.stdout)).toMatchObject({
      readModel: "dashboard",
      stream: "cdc.deposits.p0",
      generation: 2,
      changed: 0
    })
    expect(replayed.stderr).toMatch(/entries up to .* into generation 2/)
    expect(await allDocuments()).toEqual(before)
  })

  it("rebuilds again from the command line, and the projector follows to the next generation", async () => {
    const rebuilt = await cli("scripts/rebuild.ts", "dashboard", "--grace-ms", "500", "--json")
    expect(rebuilt.status, rebuilt.stderr).toBe(0)
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({
      readModel: "dashboard",
      from: 2,
      to: 3,
      deletedDocuments: customers.length
    })
    expect(rebuilt.stderr).toMatch(/snapshot at LSN [0-9A-F]+\/[0-9A-F]+: \d+ rows/)
    expect(rebuilt.stderr).toMatch(/readers switched to generation 3/)
    expect((await read(customers[0]!)).generation).toBe(3)
    // A change now reaches generation 3 through the projector that followed the pointer.
    const [account] = await run(
      Database.Database.use((db) =>
        db.query<{ customer: string }>(
          "UPDATE cards.cards SET balance = balance + 7, available_credit = available_credit - 7 WHERE card_id = (SELECT min(card_id) FROM cards.cards) RETURNING customer_id::text AS customer"
        )
      )
    )
    await vi.waitFor(async () => expect(await mismatches()).toEqual([]), { timeout: 30_000, interval: 250 })
    expect(await redis<number>("EXISTS", DashboardProjector.documentKey(account!.customer, 2))).toBe(0)
  })

  it("rebuilds every read model with the one command while customers log in, use their tokens and read, and the simulator writes", async () => {
    const rebuildable = rebuildableModels.map((model) => model.name)
    expect(rebuildable).toEqual(expect.arrayContaining(["credentials", "profile", "dashboard", "reference-data"]))
    const usernames = customers.map((id) => `demo${id}`)
    const problems: Array<string> = []
    const counts = { logins: 0, dashboards: 0, profiles: 0, references: 0 }
    // Every body PostgreSQL has had for each reference data set: what is served must be one of them.
    const referenceSets = { products: "/v1/reference/products", exchangeRates: "/v1/reference/exchange-rates" } as const
    const referenceVersions = new Map<string, Set<string>>()
    const recordReference = async () => {
      for (const name of Object.keys(referenceSets) as Array<keyof typeof referenceSets>) {
        const body = await run(Prefetch.ReferenceData.fromDatabase(name))
        referenceVersions.set(name, (referenceVersions.get(name) ?? new Set()).add(body))
      }
    }
    const served = new Map<string, Set<string>>()
    await recordReference()
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body)
      })
    const get = (path: string, token: string) =>
      fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}` } })
    const login = async (username: string) => {
      const response = await post("/v1/auth/login", { username, password: Generator.DEMO_PASSWORD })
      counts.logins++
      if (response.status !== 200) {
        problems.push(`login ${username}: ${response.status} ${await response.text()}`)
        return undefined
      }
      return ((await response.json()) as { accessToken: string }).accessToken
    }
    // A token per customer from before the rebuilds: valid throughout, never a 401.
    const tokens = new Map<string, string>()
    for (const [i, id] of customers.entries()) tokens.set(id, (await login(usernames[i]!))!)

    const stopWriter = await run(Deferred.make<void>())
    const writer = await run(
      Effect.forkDetach(
        Simulator.run({ rate: 20, workers: 2, stop: stopWriter, seed: "rebuild-all", reportEveryMs: 100 })
      )
    )
    let live = true
    const traffic = (async () => {
      for (let round = 0; live; round++) {
        await new Promise((r) => setTimeout(r, 20))
        for (const [i, id] of customers.entries()) {
          // Fresh logins through the credentials read model, old and new tokens through the token check.
          const fresh = round % 3 === 0 ? await login(usernames[i]!) : undefined
          for (const token of [tokens.get(id)!, ...(fresh ? [fresh] : [])]) {
            const dashboard = await get("/v1/dashboard", token)
            counts.dashboards++
            const body = (await dashboard.json()) as { customerId?: string; accounts?: Array<unknown> }
            if (dashboard.status !== 200 || body.customerId !== id || !(body.accounts && body.accounts.length > 0))
              problems.push(`dashboard ${id}: ${dashboard.status} ${JSON.stringify(body).slice(0, 200)}`)
            const profile = await get("/v1/profile", token)
            counts.profiles++
            const doc = (await profile.json()) as { customerId?: string }
            if (profile.status !== 200 || doc.customerId !== id)
              problems.push(`profile ${id}: ${profile.status} ${JSON.stringify(doc).slice(0, 200)}`)
          }
          for (const [name, path] of Object.entries(referenceSets)) {
            const reference = await get(path, tokens.get(id)!)
            counts.references++
            const body = await reference.text()
            if (reference.status !== 200) problems.push(`${path}: ${reference.status} ${body.slice(0, 200)}`)
            else served.set(name, (served.get(name) ?? new Set()).add(body))
          }
        }
      }
    })().catch((error: unknown) => void problems.push(`traffic stopped: ${String(error)}`))
    // The reference data changes throughout too (CDC invalidates, the actor reloads): each version is noted.
    const referenceWriter = (async () => {
      while (live) {
        await run(
          Database.Database.use((db) =>
            db.query(
              "UPDATE ref.exchange_rates SET rate = rate + 0.0001, as_of = now() WHERE (base, quote) = (SELECT base, quote FROM ref.exchange_rates ORDER BY base, quote LIMIT 1)"
            )
          )
        )
        await recordReference()
        await new Promise((r) => setTimeout(r, 400))
      }
    })().catch((error: unknown) => void problems.push(`reference writer stopped: ${String(error)}`))

    const generations: Record<string, { from: number; to: number }> = {}
    for (const name of rebuildable) {
      const rebuilt = await cli("scripts/rebuild.ts", name, "--grace-ms", "1500", "--json")
      expect(rebuilt.status, rebuilt.stderr).toBe(0)
      // The summary is the last line (logs of the rebuild's own projector may come before it).
      const summary = JSON.parse(rebuilt.stdout.trim().split("\n").at(-1)!) as {
        readModel: string
        from: number
        to: number
      }
      if (rebuilt.stdout.trim().includes("\n")) console.log(`rebuild ${name} printed:`, rebuilt.stdout)
      expect(summary.readModel).toBe(name)
      expect(summary.to).toBe(summary.from + 1)
      generations[name] = summary
    }
    await run(Deferred.succeed(stopWriter, undefined))
    const activity = await run(Fiber.join(writer))
    live = false
    await traffic
    await referenceWriter

    expect(problems).toEqual([])
    // Reference data was served throughout, always a version PostgreSQL had, and it did change.
    for (const name of Object.keys(referenceSets)) {
      const wrong = [...(served.get(name) ?? [])].filter((body) => !referenceVersions.get(name)!.has(body))
      expect(wrong.map((body) => body.slice(0, 200))).toEqual([])
    }
    expect(served.get("exchangeRates")!.size).toBeGreaterThan(1)
    expect(counts.references).toBeGreaterThan(customers.length * 10)
    expect(activity.booked).toBeGreaterThan(0)
    expect(counts.logins).toBeGreaterThan(customers.length * 2)
    expect(counts.dashboards).toBeGreaterThan(customers.length * 10)
    for (const [name, { to }] of Object.entries(generations)) expect(await run(ReadModel.generation(name))).toBe(to)
    // Logins read the new generation of the credentials; the old one's keys are gone.
    const { from, to } = generations["credentials"]!
    expect(await redis<string | null>("GET", Identity.IdentityKeys.loginName(usernames[0]!, to))).toBe(customers[0])
    expect(await redis<number>("EXISTS", Identity.IdentityKeys.loginName(usernames[0]!, from))).toBe(0)
    expect(await redis<number>("EXISTS", Identity.Credentials.recordKey(customers[0]!, from))).toBe(0)
    // The reference data of the old generation is gone; readers read the new one.
    const reference = generations["reference-data"]!
    for (const name of Prefetch.ReferenceData.allDataSets) {
      expect(await redis<number>("EXISTS", Prefetch.ReferenceData.keyOf(name, reference.from))).toBe(0)
    }
    // Every rebuilt read model equals the systems of record, checked through its Projection value.
    for (const model of rebuildableModels) {
      if (!model.reconcile) continue
      await vi.waitFor(
        async () => expect(await run(model.reconcile!({ recheckAfterMs: 0 }))).toMatchObject({ mismatches: [] }),
        {
          timeout: 30_000,
          interval: 500
        }
      )
    }
  })
})
