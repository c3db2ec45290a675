// The request step's headers and metric, the same whether the answer goes through a Fetch
// Response (`app.request`) or is written by the edge's own Node server, where they are applied
// at `writeHead` (NodeResponse.ts): request id, nosniff, Referrer-Policy, CSP and X-Frame-Options
// on HTML only, HSTS only over TLS, no-store on any answer to a request with credentials (over a
// route's weaker Cache-Control), X-Data-Source only with debug headers, and one
// http_request_duration_seconds series per method, route pattern and status.
import { getRequestListener } from "@hono/node-server"
import { Context, Metric } from "effect"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeApp, type Routes } from "./App.ts"
import { nodeServer } from "./EdgeServer.ts"
import { plainResponse } from "./PlainResponse.ts"

const documentHeaders = { "Content-Type": "application/json", "Cache-Control": "private, max-age=5" }

const routes: Routes<never> = (app) => {
  app.get("/document", () => plainResponse('{"a":1}', documentHeaders))
  app.get("/page", (c) => c.html("<p>hello</p>"))
  app.get("/cached", (c) => c.json({ ok: true }, 200, { "Cache-Control": "private, max-age=60" }))
  app.get("/stored", (c) => c.json({ ok: true }, 200, { "Cache-Control": "private, no-store" }))
  app.get("/source", (c) => c.json({ ok: true }, 200, { "X-Data-Source": "redis" }))
  app.get("/items/:id", (c) => c.json({ id: c.req.param("id") }))
  app.post("/echo", async (c) => c.json(await c.req.json()))
}

type Fetch = (path: string, init?: RequestInit) => Promise<Response>

const servers = new Map<string, { fetch: Fetch; close?: () => Promise<void> }>()

beforeAll(async () => {
  const options = { context: Context.empty() as never, routes: [routes], bodyLimitBytes: 64 }
  const inMemory = makeApp(options)
  servers.set("app.request", { fetch: (path, init) => Promise.resolve(inMemory.request(path, init)) })
  for (const debugHeaders of [false, true]) {
    const { server } = nodeServer(getRequestListener(makeApp({ ...options, debugHeaders }).fetch))
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    servers.set(debugHeaders ? "node, debug headers" : "node", {
      fetch: (path, init) => fetch(`${base}${path}`, init),
      close: () => new Promise<void>((resolve) => server.close(() => resolve()))
    })
  }
})
afterAll(async () => {
  for (const { close } of servers.values()) await close?.()
})

const count = (method: string, route: string, status: number): number => {
  const series = Metric.snapshotUnsafe(Context.empty()).find(
    (s) =>
      s.id === "http_request_duration_seconds" &&
      s.attributes?.method === method &&
      s.attributes?.route === route &&
      s.attributes?.status === String(status)
  )
  return series?.type === "Histogram" ? series.state.count : 0
}

describe.each(["app.request", "node"])("the request step (%s)", (mode) => {
  const call: Fetch = (path, init) => servers.get(mode)!.fetch(path, init)

  it("gives every answer a request id, nosniff and Referrer-Policy; HTML also a CSP and X-Frame-Options", async () => {
    const health = await call("/healthz")
    expect(health.status).toBe(200)
    expect(health.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/)
    expect(health.headers.get("x-content-type-options")).toBe("nosniff")
    expect(health.headers.get("referrer-policy")).toBe("no-referrer")
    expect(health.headers.get("content-security-policy")).toBeNull()
    expect(health.headers.get("x-frame-options")).toBeNull()
    expect(health.headers.get("cache-control")).toBeNull()
    expect(await health.json()).toEqual({ status: "ok" })

    const page = await call("/page", { headers: { "X-Request-Id": "mine-1" } })
    expect(page.headers.get("x-request-id")).toBe("mine-1")
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'")
    expect(page.headers.get("x-frame-options")).toBe("DENY")
    expect(await page.text()).toBe("<p>hello</p>")

    const missing = await call("/nowhere", { headers: { "X-Request-Id": "bad id!" } })
    expect(missing.status).toBe(404)
    const requestId = missing.headers.get("x-request-id")
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(((await missing.json()) as { requestId: string }).requestId).toBe(requestId)
    expect(missing.headers.get("x-content-type-options")).toBe("nosniff")
  })

  it("sends HSTS only over TLS, as the proxy in front says", async () => {
    expect((await call("/healthz")).headers.get("strict-transport-security")).toBeNull()
    const behindTls = await call("/healthz", { headers: { "X-Forwarded-Proto": "https, http" } })
    expect(behindTls.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains")
  })

  it("marks every answer to a request with credentials no-store, over a route's weaker Cache-Control", async () => {
    const authorization = { Authorization: "Bearer x" }
    expect((await call("/cached")).headers.get("cache-control")).toBe("private, max-age=60")
    expect((await call("/cached", { headers: authorization })).headers.get("cache-control")).toBe("no-store")
    expect((await call("/stored", { headers: authorization })).headers.get("cache-control")).toBe("private, no-store")
    expect((await call("/healthz", { headers: authorization })).headers.get("cache-control")).toBe("no-store")
    const missing = await call("/nowhere", { headers: authorization })
    expect(missing.status).toBe(404)
    expect(missing.headers.get("cache-control")).toBe("no-store")
    const tooLarge = await call("/echo", {
      method: "POST",
      headers: { ...authorization, "Content-Type": "application/json" },
      body: JSON.stringify({ text: "x".repeat(200) })
    })
    expect(tooLarge.status).toBe(413)
    expect(tooLarge.headers.get("cache-control")).toBe("no-store")
    expect(tooLarge.headers.get("x-request-id")).not.toBeNull()
  })

  it("adds its headers to a plain response, leaving the route's header object as it was", async () => {
    const document = await call("/document", { headers: { Authorization: "Bearer x" } })
    expect(await document.text()).toBe('{"a":1}')
    expect(document.headers.get("content-type")).toBe("application/json")
    expect(document.headers.get("cache-control")).toBe("no-store")
    expect(document.headers.get("x-request-id")).not.toBeNull()
    expect(document.headers.get("x-content-type-options")).toBe("nosniff")
    expect((await call("/document")).headers.get("cache-control")).toBe("private, max-age=5")
    expect(documentHeaders).toEqual({ "Content-Type": "application/json", "Cache-Control": "private, max-age=5" })
  })

  it("drops X-Data-Source unless debug headers are on", async () => {
    expect((await call("/source")).headers.get("x-data-source")).toBeNull()
    if (mode === "node")
      expect((await servers.get("node, debug headers")!.fetch("/source")).headers.get("x-data-source")).toBe("redis")
  })

  it("counts each request once in the series of its method, route pattern and status", async () => {
    const before = { item: count("GET", "/items/:id", 200), missing: count("GET", "unmatched", 404) }
    await (await call("/items/1")).text()
    await (await call("/items/2")).text()
    await (await call("/nowhere/at/all")).text()
    expect(count("GET", "/items/:id", 200)).toBe(before.item + 2)
    expect(count("GET", "unmatched", 404)).toBe(before.missing + 1)
  })
})
