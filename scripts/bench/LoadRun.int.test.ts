// `npm run load` end to end against a stand-in edge on a free port: the runner drives a scenario
// from load/scenarios.json, reports k6's metrics, and exits 99 exactly when a threshold is
// crossed. The stand-in answers the few routes the browse flow uses and can be made slow.
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))

let server: Server
let baseUrl = ""
let dashboardDelayMs = 0
const addresses = new Set<string>()
const issued = new Set<string>()

beforeAll(async () => {
  server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" })
      res.end(JSON.stringify(body))
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1]
    if (req.url === "/healthz") return json(200, { status: "ok" })
    if (req.method === "POST" && req.url === "/v1/auth/login") {
      addresses.add(String(req.headers["x-forwarded-for"]))
      const accessToken = `token-${issued.size + 1}`
      issued.add(accessToken)
      return json(200, { accessToken, refreshToken: "r", customerId: "1", sessionId: "s" })
    }
    if (token === undefined || !issued.has(token)) return json(401, { title: "Unauthorized" })
    if (req.url === "/v1/dashboard") return setTimeout(() => json(200, { accounts: [] }), dashboardDelayMs)
    if (req.url === "/v1/session") return json(200, {})
    return json(404, {})
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  baseUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`
})

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

/** Runs the browse scenario at a tenth of its rate for a few seconds; its exit code and JSON summary. */
const runBrowse = (): Promise<{ code: number | null; summary: any }> => {
  const out = join(mkdtempSync(join(tmpdir(), "load-run-")), "summary.json")
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "load/run.ts",
        "dashboard-browse",
        "--base-url",
        baseUrl,
        "--scale",
        "0.1",
        "--duration-scale",
        "0.05",
        "--json",
        out
      ],
      { cwd: root, stdio: "ignore" }
    )
    child.once("exit", (code) => resolve({ code, summary: JSON.parse(readFileSync(out, "utf8")) }))
  })
}

describe("npm run load", () => {
  it("passes when every threshold holds, with k6's metric names", async () => {
    dashboardDelayMs = 0
    const { code, summary } = await runBrowse()
    // The latency thresholds are the load test's business, not this test's: on a busy machine
    // the stand-in itself can be slow. What must hold is that the exit code follows them exactly.
    const allHeld = summary.thresholds.every((t: { ok: boolean }) => t.ok)
    expect(code).toBe(allHeld ? 0 : 99)
    expect(summary.metrics["http_req_duration{name:dashboard}"].count).toBeGreaterThan(20)
    // The browse flow sends forged tokens now and then; the 401 it expects is not a failure.
    expect(summary.metrics["http_req_duration{name:forged-token}"].count).toBeGreaterThan(0)
    expect(summary.metrics.http_req_failed.rate).toBe(0)
    expect(summary.thresholds.find((t: { series: string }) => t.series === "http_req_failed")?.ok).toBe(true)
    // Each virtual phone logs in from its own synthetic address.
    expect(addresses.size).toBeGreaterThan(1)
  }, 60_000)

  it("exits 99 and names the threshold a slow dashboard crosses", async () => {
    dashboardDelayMs = 30
    const { code, summary } = await runBrowse()
    expect(code).toBe(99)
    const crossed = summary.thresholds
      .filter((t: { ok: boolean }) => !t.ok)
      .map((t: { series: string; expression: string }) => `${t.series} ${t.expression}`)
    expect(crossed).toContain("http_req_duration{name:dashboard} p(95)<10")
    expect(crossed).not.toContain("http_req_failed rate<0.001")
  }, 60_000)
})
