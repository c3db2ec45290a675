// The OpenAPI document against the app it describes: every route the edge serves is in the
// document and every documented operation is a route (walking the Hono app's routes), every
// schema compiles under JSON Schema 2020-12, every problem type's URL is a page, and a CORS
// preflight is answered before the token check.
import { makeApp, OpenApiDocument, openApiPath } from "@bank/http"
import { compileDocument } from "@bank/http/testing"
import { Context } from "effect"
import { describe, expect, it } from "vitest"
import * as Api from "./Api.ts"

const app = (corsOrigins?: ReadonlyArray<string>) =>
  makeApp({
    context: Context.empty() as never,
    problems: Api.problems,
    routes: [Api.api],
    ...(corsOrigins ? { corsOrigins } : {})
  })
const problemTypes = () => OpenApiDocument.problemTypes(Api.problems)

const documented = () => {
  const paths = (Api.document as { paths: Record<string, Record<string, unknown>> }).paths
  return Object.entries(paths)
    .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
    .sort()
}

describe("the OpenAPI document", () => {
  it("describes every route the app serves, and only those", () => {
    // Middleware (`use`) registers as ALL; every route proper has its method.
    const served = [
      ...new Set(
        app()
          .routes.filter((r) => r.method !== "ALL")
          .map((r) => `${r.method} ${openApiPath(r.path)}`)
      )
    ].sort()
    expect(
      served.filter((r) => !documented().includes(r)),
      "routes missing from /openapi.json"
    ).toEqual([])
    expect(
      documented().filter((r) => !served.includes(r)),
      "documented operations without a route"
    ).toEqual([])
  })

  it("notices a route the document lacks", () => {
    const extra = app()
    extra.get("/v1/undocumented", (c) => c.text("x"))
    const served = extra.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${openApiPath(r.path)}`)
    expect(served.filter((r) => !documented().includes(r))).toEqual(["GET /v1/undocumented"])
  })

  it("is OpenAPI 3.1 whose every schema compiles as JSON Schema 2020-12", async () => {
    expect(Api.document).toMatchObject({ openapi: "3.1.0", info: { version: expect.any(String) } })
    const validator = compileDocument(Api.document)
    expect(validator.schemaCount).toBeGreaterThan(40)
    const served = await app().request("/openapi.json")
    expect(served.status).toBe(200)
    expect(await served.json()).toEqual(JSON.parse(JSON.stringify(Api.document)))
  }, 60_000)

  it("documents the read-your-writes and idempotency headers where they apply", () => {
    const paths = (Api.document as any).paths
    const params = (path: string, method: string) => (paths[path][method].parameters ?? []).map((p: any) => p.name)
    for (const path of ["/v1/dashboard", "/v1/profile", "/v1/session"])
      expect(params(path, "get")).toContain("Consistency-Token")
    expect(params("/v1/transfers", "post")).toContain("Idempotency-Key")
    expect(params("/v1/dashboard/events", "get")).toContain("Last-Event-ID")
    expect(Object.keys(paths["/v1/transfers"].post.responses[202].headers)).toContain("Consistency-Token")
    expect(Object.keys(paths["/v1/profile"].patch.responses[202].headers)).toContain("Consistency-Token")
    expect(Object.keys(paths["/v1/session/preferences"].patch.responses[200].headers)).toContain("Consistency-Token")
  })

  it("serves a page for every problem type, and the docs page, without a token", async () => {
    const served = app()
    for (const type of problemTypes()) {
      expect(type.uri).toBe(`/docs/problems/${type.slug}`)
      const page = await served.request(type.uri)
      expect(page.status, type.uri).toBe(200)
      expect(await page.text()).toContain(type.title.replace(/&/g, "&amp;").replace(/'/g, "&#39;"))
    }
    const missing = await served.request("/docs/problems/no-such-problem")
    expect(missing.status).toBe(404)
    const docs = await served.request("/docs")
    expect(docs.headers.get("content-type")).toContain("text/html")
    const html = await docs.text()
    for (const op of ["createTransfer", "getDashboard", "listTransactions", "logOutEverywhere"])
      expect(html).toContain(`id="${op}"`)
    expect(html).not.toMatch(/<script|https?:\/\//)
  })

  it("answers a CORS preflight from an allowed origin before the token check, and none without CORS", async () => {
    const preflight = {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,idempotency-key"
      }
    }
    const allowed = await app(["https://app.example"]).request("/v1/transfers", preflight)
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example")
    expect(allowed.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("idempotency-key")
    const other = await app(["https://app.example"]).request("/v1/transfers", {
      ...preflight,
      headers: { ...preflight.headers, Origin: "https://evil.example" }
    })
    expect(other.headers.get("access-control-allow-origin")).toBeNull()
  })
})
