// The system in one test process, for end-to-end suites: a private PostgreSQL (migrated, then
// filled by the suite's `seed`) and Redis, the CDC connector, identity (actor, credentials
// projection, session projector), the payments and prefetch actors, with `everything` also the
// dashboard and profile projectors and the profile writer, and the edge with every route of the
// API (the edge's makeApi: documents and the web app included) on a free port. Customers log in
// through identity's real login route.
import { Cdc } from "@bank/contracts"
import * as Dashboard from "@bank/dashboard"
import { makeApi, problems } from "@bank/edge"
import { EdgeServer, StepUp } from "@bank/http"
import * as Identity from "@bank/identity"
import * as Payments from "@bank/payments"
import { Database, DocumentStore, ReadModel, RedisClient, StreamLog, Tracing } from "@bank/platform"
import * as Prefetch from "@bank/prefetch"
import * as Profile from "@bank/profile"
import { CdcConnector } from "@bank/cdc"
import { Migrations } from "@bank/records"
import { Effect, Layer, ManagedRuntime, References } from "effect"
import pg from "pg"
import { connectRedis, type LocalRedis, type TestRedisClient, usePostgres, useRedis } from "@bank/test-kit"
import { afterAll, beforeAll, expect, vi } from "vitest"
import manifest from "../../processes.json" with { type: "json" }

// The processes of processes.json this stack runs, as layers in the test's own process, and
// those it leaves out (their suites start them themselves, or `everything` runs them in this
// process). A process added to the manifest
// must be placed in one list or the other.
const inProcess = ["edge", "cdc", "identity", "payments", "prefetch"]
const leftOut = ["dashboard", "profile"]
const unplaced = manifest.processes
  .map((p) => p.name)
  .filter((name) => !inProcess.includes(name) && !leftOut.includes(name))
if (unplaced.length > 0)
  throw new Error(`bankStack: place ${unplaced.join(", ")} (processes.json) in inProcess or leftOut`)

export interface StackOptions {
  /** Fills the migrated database before anything else starts. */
  readonly seed: (db: pg.Client, url: string) => Promise<void>
  /** A username whose credentials must have reached Redis before the suite starts. */
  readonly waitForUser: string
  readonly prefetch?: Partial<Prefetch.PrefetchConfig.Settings>
  /** Identity settings beyond the stack's (cheap hashing, few processes). */
  readonly identity?: Partial<Identity.IdentityConfig.Settings>
  /** Also the profile writer (every route is always served; the dashboard's feed without a projector). */
  readonly allRoutes?: boolean
  /** Also the dashboard projector, the profile projector and the profile writer. */
  readonly everything?: boolean
  /** CORS origins of the edge. */
  readonly corsOrigins?: ReadonlyArray<string>
  readonly stepUp?: Partial<StepUp.Settings>
  /** Diagnostic headers such as X-Data-Source (default on, as the prefetch suite reads them). */
  readonly debugHeaders?: boolean
  /** Export traces over OTLP/HTTP JSON to this URL (a collector's /v1/traces), every `exportIntervalMs`. */
  readonly traces?: { readonly url: string; readonly exportIntervalMs: number }
}

export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: any
}

export interface Stack {
  readonly base: string
  /** A direct connection to the systems of record. */
  readonly db: pg.Client
  readonly redis: TestRedisClient
  readonly runtime: ManagedRuntime.ManagedRuntime<any, any>
  /** The suite's private Redis (one server, or a cluster whose nodes a test may kill). */
  readonly redisServer: LocalRedis
  readonly call: (
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> }
  ) => Promise<Answer>
  /** Logs in through `POST /v1/auth/login`; the access token and the customer id. */
  readonly login: (username: string, password: string) => Promise<{ token: string; customerId: string }>
}

const api = makeApi({ dashboard: { heartbeatMs: 1000 } })

export const useStack = (options: StackOptions): Stack => {
  const postgres = usePostgres()
  const redisServer = useRedis()
  let base = ""
  let db: pg.Client
  let redis: TestRedisClient
  let runtime: ManagedRuntime.ManagedRuntime<any, any>

  beforeAll(async () => {
    const pgUrl = postgres.server.url
    await Effect.runPromise(Migrations.migrate().pipe(Effect.provide(Database.layer(pgUrl))))
    db = new pg.Client({ connectionString: pgUrl })
    await db.connect()
    await options.seed(db, pgUrl)
    redis = await connectRedis(redisServer.server.url)
    const services = Layer.mergeAll(RedisClient.layer(redisServer.server.url), Database.layer(pgUrl))
    const identity = Identity.IdentityConfig.layer(
      Identity.IdentityConfig.make({ dummyHashCost: 1024, concurrency: 4, ...options.identity })
    )
    runtime = ManagedRuntime.make(
      Layer.mergeAll(
        EdgeServer.layer({
          port: 0,
          hostname: "127.0.0.1",
          debugHeaders: options.debugHeaders ?? true,
          problems,
          routes: [api],
          ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {})
        }).pipe(
          Layer.provide(Layer.mergeAll(Identity.edgeLayer, Profile.edgeLayer, Prefetch.edgeLayer)),
          Layer.provideMerge(Dashboard.edgeLayer)
        ),
        options.everything
          ? Layer.mergeAll(
              Dashboard.DashboardProjector.layer({ ownershipMs: 2000 }),
              Profile.ProfileProjector.layer,
              Profile.ProfileWriter.layer
            ).pipe(Layer.provide(Layer.mergeAll(DocumentStore.layer, StreamLog.layer, ReadModel.layer())))
          : Layer.empty,
        Identity.actorsLayer,
        options.allRoutes && !options.everything
          ? Profile.ProfileWriter.layer.pipe(Layer.provide(Profile.edgeLayer))
          : Layer.empty,
        Payments.actorLayer,
        Prefetch.PrefetchActor.layer.pipe(
          Layer.provide(Layer.mergeAll(Prefetch.PrefetchConfig.layer(options.prefetch), ReadModel.layer()))
        ),
        CdcConnector.layer({
          databaseUrl: pgUrl,
          schemas: [...Cdc.systems, "ref"],
          metricsPort: 0,
          slot: "bank_e2e",
          publication: "bank_e2e",
          lagIntervalMs: 5000
        })
      ).pipe(
        Layer.provide(identity),
        Layer.provide(StepUp.layer(options.stepUp)),
        Layer.provideMerge(services),
        Layer.provide(Layer.succeed(References.MinimumLogLevel, "Warn")),
        Layer.provide(options.traces ? Tracing.layer({ serviceName: "bank-e2e", ...options.traces }) : Layer.empty)
      )
    )
    const port = await runtime.runPromise(EdgeServer.EdgeServer.useSync((s) => s.port))
    base = `http://127.0.0.1:${port}`
    await vi.waitFor(
      async () => expect(await redis.exists(Identity.IdentityKeys.loginName(options.waitForUser))).toBe(1),
      { timeout: 60_000, interval: 100 }
    )
  }, 180_000)

  afterAll(async () => {
    await runtime?.dispose()
    await redis?.close()
    await db?.end()
  })

  const call: Stack["call"] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers }
    if (o.token) headers.Authorization = `Bearer ${o.token}`
    if (o.body !== undefined) headers["Content-Type"] = "application/json"
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(o.body !== undefined ? { body: typeof o.body === "string" ? o.body : JSON.stringify(o.body) } : {})
    })
    const text = await response.text()
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined }
  }

  return {
    get base() {
      return base
    },
    get db() {
      return db
    },
    get redis() {
      return redis
    },
    get runtime() {
      return runtime
    },
    get redisServer() {
      return redisServer.server
    },
    call,
    login: async (username, password) => {
      const answer = await call("POST", "/v1/auth/login", { body: { username, password } })
      expect(answer.status, JSON.stringify(answer.body)).toBe(200)
      return { token: answer.body.accessToken as string, customerId: answer.body.customerId as string }
    }
  }
}
