// The edge through real HTTP, with a private Redis and PostgreSQL: health and readiness (also
// while a dependency is down), request ids, and the problem+json contract of every failure.
// The body decoder is exercised through a route registered only here.
import { Database, RedisClient } from "@bank/platform"
import { Effect, Layer, Logger, ManagedRuntime, Schema } from "effect"
import { spawn } from "node:child_process"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { freePort, usePostgres, useRedis } from "@bank/test-kit"
import type { Routes } from "@bank/http"
import { decodeBody, EdgeServer } from "@bank/http"

const Transfer = Schema.Struct({
  amount: Schema.Number.check(Schema.isGreaterThan(0)),
  to: Schema.Struct({ iban: Schema.String.check(Schema.isMinLength(15)) })
})

const testRoutes: Routes<Database.Database> = (app, run) => {
  app.post("/test/transfers", (c) =>
    run(
      c,
      Effect.gen(function* () {
        const transfer = yield* decodeBody(c, Transfer)
        return c.json({ accepted: transfer }, 201)
      })
    )
  )
  app.get("/test/defect", (c) => run(c, Effect.die(new Error("secret-defect-detail"))))
  app.get("/test/throw", () => {
    throw new Error("secret-thrown-detail")
  })
  app.get("/test/bad-sql", (c) =>
    run(
      c,
      Database.Database.use((db) => db.query("SELECT * FROM secret_table_name")).pipe(Effect.as(c.text("unreachable")))
    )
  )
}

// Compile-time guarantee, checked by `tsc`: an error tag with no entry in ErrorTable.ts cannot
// be run. Exported so tsc does not call it unused.
// biome-ignore lint/suspicious/noExportsInTest: a type-level test, never run
export const unmappedErrorDoesNotCompile: Routes<never> = (app, run) => {
  // @ts-expect-error "NotInTheTable" has no entry in ErrorTable.ts
  app.get("/never", (c) => run(c, Effect.fail({ _tag: "NotInTheTable" } as const)))
}

const bodyLimitBytes = 1024
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe("edge over HTTP", () => {
  const redis = useRedis()
  const pg = usePostgres()
  const logs: Array<{ level: string; message: unknown; cause?: string; annotations: Record<string, unknown> }> = []
  let runtime: ManagedRuntime.ManagedRuntime<EdgeServer.EdgeServer, unknown>
  let base = ""
  const dependencies = () =>
    Layer.mergeAll(RedisClient.layer(redis.server.url), Database.layer(pg.server.url, { connectTimeoutMillis: 500 }))

  beforeAll(async () => {
    const capture = Logger.make((options) => {
      logs.push(Logger.formatStructured.log(options) as (typeof logs)[number])
    })
    runtime = ManagedRuntime.make(
      EdgeServer.layer({
        port: 0,
        hostname: "127.0.0.1",
        bodyLimitBytes,
        readinessTimeout: "500 millis",
        routes: [testRoutes]
      }).pipe(Layer.provide(dependencies()), Layer.provide(Logger.layer([capture])))
    )
    const port = await runtime.runPromise(EdgeServer.EdgeServer.useSync((server) => server.port))
    base = `http://127.0.0.1:${port}`
  })
  afterAll(() => runtime?.dispose())

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers })
  const post = (path: string, body: string, contentType = "application/json") =>
    fetch(`${base}${path}`, { method: "POST", body, headers: { "Content-Type": contentType } })
  const problem = async (response: Response) => {
    expect(response.headers.get("content-type")).toBe("application/problem+json")
    const body = (await response.json()) as Record<string, unknown>
    expect(body).toMatchObject({ status: response.status, requestId: response.headers.get("x-request-id") })
    expect(typeof body.type).toBe("string")
    expect(typeof body.title).toBe("string")
    expect(typeof body.detail).toBe("string")
    return body
  }
  const readiness = async () => {
    const response = await get("/readyz")
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }

  it("answers /healthz and generates a request id", async () => {
    const response = await get("/healthz")
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: "ok" })
    expect(response.headers.get("x-request-id")).toMatch(uuid)
  })

  it("echoes a sane incoming request id and replaces one that is not", async () => {
    expect((await get("/healthz", { "X-Request-Id": "app-7f3a_x=1" })).headers.get("x-request-id")).toBe("app-7f3a_x=1")
    for (const insane of ["has spaces", "semi;colon", "x".repeat(129)]) {
      expect((await get("/healthz", { "X-Request-Id": insane })).headers.get("x-request-id")).toMatch(uuid)
    }
  })

  it("answers an unknown route with a 404 problem carrying the request id", async () => {
    const response = await get("/v1/nowhere", { "X-Request-Id": "trace-404" })
    expect(response.status).toBe(404)
    expect(await problem(response)).toMatchObject({
      type: "/docs/problems/not-found",
      instance: "/v1/nowhere",
      requestId: "trace-404"
    })
  })

  it("decodes a valid JSON body into the route's schema", async () => {
    const response = await post(
      "/test/transfers",
      JSON.stringify({ amount: 12.5, to: { iban: "DE89370400440532013000" } })
    )
    expect(response.status).toBe(201)
    expect(await response.json()).toEqual({ accepted: { amount: 12.5, to: { iban: "DE89370400440532013000" } } })
  })

  it("answers 400 on malformed JSON", async () => {
    const response = await post("/test/transfers", '{"amount": 12,')
    expect(response.status).toBe(400)
    expect(await problem(response)).toMatchObject({ type: "/docs/problems/malformed-body" })
  })

  it("answers 400 naming every field that fails the schema", async () => {
    const response = await post("/test/transfers", JSON.stringify({ amount: -3, to: { iban: "short" } }))
    expect(response.status).toBe(400)
    const body = await problem(response)
    expect(body.type).toBe("/docs/problems/invalid-body")
    const errors = body.errors as Array<{ path: string; message: string }>
    expect(errors.map((e) => e.path).sort()).toEqual(["/amount", "/to/iban"])
    expect(errors.every((e) => e.message.length > 0)).toBe(true)

    const missing = await problem(await post("/test/transfers", JSON.stringify({ amount: 1 })))
    expect(missing.errors).toEqual([{ path: "/to", message: "Missing key" }])
  })

  it("answers 415 to a body that is not JSON", async () => {
    const response = await post("/test/transfers", "amount=12", "application/x-www-form-urlencoded")
    expect(response.status).toBe(415)
    expect(await problem(response)).toMatchObject({ type: "/docs/problems/unsupported-media-type" })
  })

  it("answers 413 to a body over the limit, declared or streamed", async () => {
    const oversized = JSON.stringify({ amount: 1, to: { iban: "x".repeat(bodyLimitBytes) } })
    const declared = await post("/test/transfers", oversized)
    expect(declared.status).toBe(413)
    expect(await problem(declared)).toMatchObject({ type: "/docs/problems/payload-too-large" })

    // No Content-Length: the limit must hold while reading the chunks.
    const chunks = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(oversized))
        controller.close()
      }
    })
    const streamed = await fetch(`${base}/test/transfers`, {
      method: "POST",
      body: chunks,
      headers: { "Content-Type": "application/json" },
      duplex: "half"
    } as RequestInit)
    expect(streamed.status).toBe(413)
    await problem(streamed)
  })

  it("answers a defect with a bare 500 and logs the cause under the request id", async () => {
    for (const path of ["/test/defect", "/test/throw"]) {
      const requestId = `defect-${path.slice(6)}`
      const response = await get(path, { "X-Request-Id": requestId })
      expect(response.status).toBe(500)
      const text = await response.clone().text()
      expect(text).not.toMatch(/secret|Error|\bat\s/)
      expect(await problem(response)).toMatchObject({ type: "/docs/problems/internal-error", requestId })
      const logged = logs.find((l) => l.annotations.requestId === requestId && l.level === "ERROR")
      expect(logged?.cause).toContain("secret-")
    }
  })

  it("does not leak the SQL or the server's message of a failed query", async () => {
    const response = await get("/test/bad-sql")
    expect(response.status).toBe(500)
    const text = await response.clone().text()
    expect(text).not.toMatch(/secret_table_name|relation|SELECT/)
    await problem(response)
  })

  it("is ready when Redis and PostgreSQL answer, and says which one does not", async () => {
    expect(await readiness()).toEqual({
      status: 200,
      body: {
        status: "ok",
        checks: { redis: "ok", postgres: "ok" },
        redis: { topology: "single", cluster_state: "ok", slots_covered: 16384, masters: 1 }
      }
    })

    await redis.server.kill()
    const withoutRedis = await get("/readyz")
    expect(withoutRedis.status).toBe(503)
    expect(await problem(withoutRedis)).toMatchObject({
      type: "/docs/problems/not-ready",
      detail: "Not answering: redis.",
      checks: { redis: "failed", postgres: "ok" }
    })
    expect((await get("/healthz")).status).toBe(200) // alive, just not ready
    await redis.server.restart()
    await vi.waitFor(async () => expect((await readiness()).status).toBe(200), { timeout: 20_000, interval: 200 })

    await pg.server.kill()
    const withoutPostgres = await get("/readyz")
    expect(withoutPostgres.status).toBe(503)
    expect(await problem(withoutPostgres)).toMatchObject({
      detail: "Not answering: postgres.",
      checks: { redis: "ok", postgres: "failed" }
    })
    await pg.server.restart()
    await vi.waitFor(async () => expect((await readiness()).status).toBe(200), { timeout: 20_000, interval: 200 })
  })

  it("at shutdown, finishes the request in flight and accepts no new one", async () => {
    let started!: () => void
    const handlerStarted = new Promise<void>((resolve) => (started = resolve))
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    const slowRoutes: Routes<never> = (app, run) => {
      app.get("/test/slow", (c) =>
        run(
          c,
          Effect.promise(async () => {
            started()
            await released
            return c.json({ finished: true })
          })
        )
      )
    }
    const server = ManagedRuntime.make(
      EdgeServer.layer({ port: 0, hostname: "127.0.0.1", routes: [slowRoutes] }).pipe(Layer.provide(dependencies()))
    )
    const url = `http://127.0.0.1:${await server.runPromise(EdgeServer.EdgeServer.useSync((s) => s.port))}`
    const inFlight = fetch(`${url}/test/slow`)
    await handlerStarted

    const stopped = server.dispose()
    await vi.waitFor(() => expect(fetch(`${url}/healthz`)).rejects.toThrow())
    release()
    const response = await inFlight
    expect(response.status).toBe(200)
    expect(response.headers.get("connection")).toBe("close") // so the shutdown need not wait for the client
    expect(await response.json()).toEqual({ finished: true })
    await stopped
  })

  it("runs as a process that stops cleanly on SIGTERM", async () => {
    const port = await freePort()
    const child = spawn(process.execPath, ["--import", "tsx", "packages/edge/src/main.ts"], {
      env: { ...process.env, PORT: String(port), REDIS_URL: redis.server.url, DATABASE_URL: pg.server.url },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
    try {
      // Serving (/healthz), not ready: no CDC connector fills its read models here.
      await vi.waitFor(async () => expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200), {
        timeout: 30_000,
        interval: 100
      })
      child.kill("SIGTERM")
      await exited
      expect(output).toContain("Edge stopped")
    } finally {
      child.kill("SIGKILL")
    }
  })
})
