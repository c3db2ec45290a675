// The system as `npm start` runs it (scripts/start.mjs, on private servers kept in a temporary
// DATA_DIR): it says `ready` only when a demo login and its dashboard succeed; every process
// serves /healthz, /readyz and Prometheus /metrics on its own management port, printed as
// `metrics: <url> (<process>)`, which a real Prometheus scrapes (with the repository's alert
// rules loaded) and reads back under traffic; each process other than the edge, killed with
// SIGKILL in turn, is restarted (and npm start says so), is ready again, and the system serves
// logins and dashboards afterwards (and, after the CDC connector, a dashboard projector or the
// payments actor, a new transfer shows on the dashboard). One stack, the kills one after another.
import { spawn, type ChildProcess } from "node:child_process"
import { randomUUID } from "node:crypto"
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { freePort } from "@bank/test-kit"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"

const root = fileURLToPath(new URL("..", import.meta.url))
let child: ChildProcess
let output = ""
let base = ""
const management = new Map<string, string>()
const dataDir = mkdtempSync(join(tmpdir(), "bank-start-"))
// As root, PostgreSQL runs as `postgres`, which must reach its directory inside.
chmodSync(dataDir, 0o755)

const login = async (username: string) => {
  const response = await fetch(`${base}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: "demo-password" })
  })
  return { status: response.status, body: (await response.json()) as any }
}
const dashboard = (token: string) =>
  fetch(`${base}/v1/dashboard`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status)
const dashboardOf = async (token: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${base}/v1/dashboard`, { headers: { authorization: `Bearer ${token}`, ...headers } })
  return { status: response.status, body: (await response.json()) as any }
}

const cents = (amount: string) => BigInt(amount.replace(".", ""))
interface Pair {
  readonly from: { readonly id: string; readonly currency: string; readonly token: string }
  readonly to: { readonly id: string }
}
// Two open deposit accounts in one currency, the first with money on it, its owner logged in.
const transferPair = async (): Promise<Pair> => {
  const accounts: Array<{ id: string; currency: string; cents: bigint; token: string }> = []
  for (let i = 1; i <= 8; i++) {
    const answer = await login(`demo${i}`)
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    const { body } = await dashboardOf(answer.body.accessToken)
    for (const a of body.accounts ?? [])
      if (a.system === "deposits" && a.status === "open")
        accounts.push({
          id: a.id,
          currency: a.balance.currency,
          cents: cents(a.balance.amount),
          token: answer.body.accessToken
        })
  }
  const from = accounts.find((a) => a.cents >= 100n && accounts.some((b) => b.id !== a.id && b.currency === a.currency))
  expect(from, "two open deposit accounts in one currency among demo1..8").toBeDefined()
  return { from: from!, to: accounts.find((b) => b.id !== from!.id && b.currency === from!.currency)! }
}
// A transfer of 0.01 shows on the sender's dashboard: a read with its Consistency-Token answers
// 200 only once the document holds it (503 + Retry-After until then: asked again here).
const transferShows = async (pair: Pair, reference: string) => {
  const sent = await fetch(`${base}/v1/transfers`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${pair.from.token}`,
      "content-type": "application/json",
      "idempotency-key": randomUUID()
    },
    body: JSON.stringify({
      fromAccountId: pair.from.id,
      toAccountId: pair.to.id,
      amount: { amount: "0.01", currency: pair.from.currency },
      reference
    })
  })
  expect(sent.status, await sent.clone().text()).toBe(202)
  const consistency = sent.headers.get("consistency-token")!
  await vi.waitFor(
    async () => {
      const read = await dashboardOf(pair.from.token, { "consistency-token": consistency })
      expect(read.status).toBe(200)
      expect(read.body.latestTransactions.map((t: any) => t.description)).toContain(reference)
    },
    { timeout: 90_000, interval: 500 }
  )
}

beforeAll(async () => {
  const port = await freePort()
  // Its own servers, never ones this machine or the test run points at.
  const { REDIS_URL: _redis, DATABASE_URL: _database, ...environment } = process.env
  base = `http://127.0.0.1:${port}`
  child = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd: root,
    env: { ...environment, PORT: String(port), DATA_DIR: dataDir, SEED_CUSTOMERS: "40", LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true
  })
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => (output += chunk))
  await vi.waitFor(() => expect(output).toMatch(/ready: http/), { timeout: 240_000, interval: 200 })
  for (const [, url, name] of output.matchAll(/metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics \(([\w-]+)\)/g))
    management.set(name!, url!)
}, 300_000)

afterAll(async () => {
  if (child?.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve))
    process.kill(-child.pid!, "SIGTERM")
    await exited
  }
  rmSync(dataDir, { recursive: true, force: true })
}, 60_000)

describe("npm start", () => {
  it("is ready when it says so: the first demo login and its dashboard succeed", async () => {
    const first = await login("demo2")
    expect(first.status, JSON.stringify(first.body)).toBe(200)
    expect(await dashboard(first.body.accessToken)).toBe(200)
  })

  it("gives every process a management port with health, readiness and Prometheus metrics", async () => {
    // One per process of processes.json (the dashboard projector runs as several).
    expect(new Set([...management.keys()].map((name) => name.replace(/-\d+$/, "")))).toEqual(
      new Set(["cdc", "dashboard", "edge", "identity", "payments", "prefetch", "profile"])
    )
    for (const [name, url] of management) {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:/)
      expect((await fetch(`${url}/healthz`)).status, name).toBe(200)
      expect((await fetch(`${url}/readyz`)).status, name).toBe(200)
      const metrics = await (await fetch(`${url}/metrics`)).text()
      expect(metrics, name).toMatch(/^process_resident_memory_bytes\{process="[\w-]+"\} \d+/m)
    }
    const identity = await (await fetch(`${management.get("identity")}/metrics`)).text()
    expect(identity).toMatch(/^consumer_group_lag\{stream="identity.requests",group="identity"\} \d+/m)
    expect(identity).toMatch(/^dead_letter_depth\{stream="identity.requests"\} \d+/m)
    const edge = await (await fetch(`${management.get("edge")}/metrics`)).text()
    expect(edge).toMatch(
      /^http_request_duration_seconds_count\{method="POST",route="\/v1\/auth\/login",status="200"\} [1-9]/m
    )
    expect(edge).toMatch(/^login_outcomes_total\{outcome="LoggedIn"\} [1-9]/m)
    const cdc = await (await fetch(`${management.get("cdc")}/metrics`)).text()
    expect(cdc).toMatch(/^cdc_role\{slot="bank_cdc",role="streaming"\} 1/m)
  })

  it("is scraped by a real Prometheus, which reads the series back under traffic", async () => {
    const promPort = await freePort()
    const dir = mkdtempSync(join(tmpdir(), "bank-prometheus-"))
    const targets = [...management].map(([name, url]) => ({
      targets: [url.replace("http://", "")],
      labels: { service: name }
    }))
    writeFileSync(join(dir, "targets.json"), JSON.stringify(targets))
    writeFileSync(
      join(dir, "prometheus.yml"),
      [
        "global: { scrape_interval: 1s }",
        "rule_files: [" + JSON.stringify(join(root, "config/prometheus/alerts.yml")) + "]",
        "scrape_configs:",
        "  - job_name: bank",
        "    file_sd_configs: [{ files: [" + JSON.stringify(join(dir, "targets.json")) + "] }]"
      ].join("\n")
    )
    const prometheus = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`
      ],
      { stdio: "ignore" }
    )
    const query = async (expr: string) => {
      const response = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`)
      return ((await response.json()) as any).data.result as Array<{
        metric: Record<string, string>
        value: [number, string]
      }>
    }
    try {
      // Traffic while Prometheus scrapes: logins and dashboard reads.
      const traffic = (async () => {
        for (let i = 0; i < 10; i++) {
          const answer = await login(`demo${10 + i}`)
          // Twice: the second check of the token is answered from the edge's cache.
          if (answer.status === 200) for (let n = 0; n < 2; n++) await dashboard(answer.body.accessToken)
        }
      })()
      await vi.waitFor(
        async () => {
          const logins = await query('sum(login_outcomes_total{outcome="LoggedIn"})')
          expect(Number(logins[0]?.value[1] ?? 0)).toBeGreaterThanOrEqual(10)
        },
        { timeout: 90_000, interval: 500 }
      )
      await traffic
      // Each process is scraped on its own schedule (and a scrape of a busy process can time out
      // at the 1 s interval): wait until Prometheus holds the series rather than asking once.
      await vi.waitFor(
        async () => {
          const latency = await query('sum by (route) (http_request_duration_seconds_count{route="/v1/dashboard"})')
          expect(Number(latency[0]?.value[1] ?? 0)).toBeGreaterThan(0)
          const lag = await query('consumer_group_lag{group="identity"}')
          expect(lag.length).toBeGreaterThan(0)
          const cache = await query("sum by (result) (token_check_cache_total)")
          for (const result of ["hit", "miss"])
            expect(Number(cache.find((s) => s.metric.result === result)?.value[1] ?? 0), result).toBeGreaterThan(0)
          const handlers = await query("sum by (group) (handler_duration_seconds_count)")
          for (const group of ["identity", "dashboard"])
            expect(Number(handlers.find((s) => s.metric.group === group)?.value[1] ?? 0), group).toBeGreaterThan(0)
        },
        { timeout: 30_000, interval: 500 }
      )
      await vi.waitFor(
        async () => {
          const up = await query('up{job="bank"}')
          expect(up.filter((s) => s.value[1] === "1").length).toBe(management.size)
        },
        { timeout: 30_000, interval: 500 }
      )
      const rules = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`)).json()) as any
      expect(rules.data.groups[0].rules.map((r: any) => r.name)).toContain("ConsumerGroupLagging")
    } finally {
      prometheus.kill("SIGTERM")
      await new Promise((resolve) => prometheus.once("exit", resolve))
      rmSync(dir, { recursive: true, force: true })
    }
  }, 180_000)

  // Every process but the edge, one after the other; the dashboard projector runs as several:
  // its first one stands for them.
  const killed = ["cdc", "identity", "payments", "prefetch", "dashboard-1", "profile"]
  const showsTransfers = new Set(["cdc", "dashboard-1", "payments"])
  let pair: Pair | undefined

  it("kills every process of the manifest but the edge", () => {
    const manifest = JSON.parse(readFileSync(join(root, "processes.json"), "utf8")) as {
      processes: Array<{ name: string }>
    }
    expect(new Set(killed.map((name) => name.replace(/-\d+$/, "")))).toEqual(
      new Set(manifest.processes.map((p) => p.name).filter((name) => name !== "edge"))
    )
    for (const name of killed) expect(management.has(name), name).toBe(true)
  })

  it.each(killed)(
    "restarts %s killed with SIGKILL, says so, is ready again, and the system serves",
    async (name) => {
      pair ??= await transferPair()
      const url = management.get(name)!
      const { pid } = (await (await fetch(`${url}/healthz`)).json()) as { pid: number }
      const mark = output.length
      process.kill(pid, "SIGKILL")
      await vi.waitFor(
        () => expect(output.slice(mark)).toContain(`${name} exited unexpectedly (signal SIGKILL): restarting it`),
        { timeout: 30_000, interval: 100 }
      )
      await vi.waitFor(
        async () => {
          const health = (await (await fetch(`${url}/healthz`)).json()) as { pid: number }
          expect(health.pid).not.toBe(pid)
          expect((await fetch(`${url}/readyz`)).status).toBe(200)
        },
        { timeout: 120_000, interval: 250 }
      )
      const again = await login(`demo${10 + killed.indexOf(name)}`)
      expect(again.status, JSON.stringify(again.body)).toBe(200)
      expect(await dashboard(again.body.accessToken)).toBe(200)
      if (showsTransfers.has(name)) await transferShows(pair, `after ${name} was killed`)
      expect(child.exitCode).toBeNull()
    },
    240_000
  )
})
