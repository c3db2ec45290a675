// Logins: a pool of logged-in demo users (their tokens feed every measurement behind the token
// check), login throughput through the real edge and identity actor, and the bare KDF on the
// same cores as its ceiling.
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Keys } from "@bank/platform"
import { addressOf } from "../../../load/flows/Api.ts"
import { latencyText, saturate, type BenchContext, type OwnAccount } from "../Context.ts"
import { fmt, notMeasured } from "../Figures.ts"
import { cpuMeter } from "../Machine.ts"
import { type ProcessCpu, processMeter } from "../Processes.ts"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const PASSWORD = "demo-password"

const loginOnce = async (baseUrl: string, user: number): Promise<{ status: number; token?: string }> => {
  const response = await fetch(`${baseUrl}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": addressOf(user) },
    body: JSON.stringify({ username: `demo${user}`, password: PASSWORD, deviceId: `bench-${user}` }),
    signal: AbortSignal.timeout(30_000)
  }).catch(() => undefined)
  if (!response) return { status: 0 }
  const body = (await response.json().catch(() => ({}))) as { accessToken?: string }
  return body.accessToken ? { status: response.status, token: body.accessToken } : { status: response.status }
}

/** Why logins cannot work, from what Redis shows: nobody consumes the identity request stream. */
const diagnose = async (ctx: BenchContext): Promise<string> => {
  const stream = Keys.stream("identity.requests")
  const groups =
    Number(await ctx.redis.sendCommand(["EXISTS", stream])) === 1
      ? ((await ctx.redis.sendCommand(["XINFO", "GROUPS", stream])) as Array<unknown>)
      : []
  return groups.length === 0
    ? " (no identity actor consumes identity.requests: packages/identity/src/main.ts is not among npm start's processes)"
    : ""
}

/** Logs in demo1 ... demoN, a few at a time; fills ctx.tokens. Says why when none worked. */
export const tokenPool = async (ctx: BenchContext, users: number): Promise<string | undefined> => {
  ctx.say(`logging in ${users} demo users for the token pool`)
  // One first: when logins cannot work at all, each would wait for the edge's request timeout.
  const first = await loginOnce(ctx.stack.baseUrl, 1)
  if (!first.token)
    return `POST /v1/auth/login answered ${first.status === 0 ? "nothing" : first.status}${await diagnose(ctx)}`
  ctx.tokens.push(first.token)
  const statuses = new Map<number, number>([[first.status, 1]])
  let next = 2
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next <= users) {
        const result = await loginOnce(ctx.stack.baseUrl, next++)
        statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1)
        if (result.token) ctx.tokens.push(result.token)
      }
    })
  )
  if (ctx.tokens.length > 0) return undefined
  return `POST /v1/auth/login answered ${[...statuses].map(([s, n]) => `${s === 0 ? "no answer" : s} ×${n}`).join(", ")}`
}

/** A transactions window's key: `{c:<customer>}:txmeta:<system>:<id>` (packages/prefetch TransactionCache.ts). */
const WINDOW_KEY = /^\{c:([^}]+)\}:txmeta:([a-z]+:[0-9]+)$/

/**
 * The account of a customer to read transactions of from Redis: of its ready windows (HMGET
 * state from last of each), one that answers the newest `limit` entries whole (at least `limit`
 * entries, or all since the account's first, as page.lua requires), the largest; undefined if none.
 */
export const windowToRead = (
  windows: ReadonlyArray<{ readonly account: string; readonly meta: ReadonlyArray<string | null> }>,
  limit = 20
): string | undefined => {
  let best: { account: string; size: number } | undefined
  for (const { account, meta } of windows) {
    const [state, fromText, lastText] = meta
    if (state !== "ready" || !fromText || !lastText) continue
    const from = Number(fromText)
    const size = Number(lastText) - from + 1
    if ((size >= limit || from === 1) && size > (best?.size ?? -1)) best = { account, size }
  }
  return best?.account
}

/**
 * Fills ctx.accounts: each token whose customer's login prefetched a window that answers its
 * newest page from Redis, with that account. Prefetch runs after the login (PrefetchActor.ts), so
 * this waits until every token's customer has one, or until none came for `quietMs`.
 */
export const prefetchedAccounts = async (
  ctx: Pick<BenchContext, "redis" | "tokens" | "accounts" | "say">,
  options: { readonly quietMs?: number; readonly timeoutMs?: number } = {}
): Promise<string | undefined> => {
  const quietMs = options.quietMs ?? 5_000
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  const tokenOf = new Map<string, string>()
  for (const token of ctx.tokens) {
    const hash = createHash("sha256").update(token).digest("base64url")
    const customer = await ctx.redis.hGet(`identity:access:${hash}`, "c")
    if (customer) tokenOf.set(customer, token)
  }
  let found = new Map<string, string>()

  let changed = Date.now()
  for (;;) {
    const windows = new Map<string, Array<{ account: string; meta: ReadonlyArray<string | null> }>>()
    let cursor = "0"
    do {
      const [next, keys] = (await ctx.redis.sendCommand([
        "SCAN",
        cursor,
        "MATCH",
        "{c:*}:txmeta:*",
        "COUNT",
        "1000"
      ])) as [string, Array<string>]
      cursor = next
      for (const key of keys) {
        const match = WINDOW_KEY.exec(key)
        if (!match || !tokenOf.has(match[1]!)) continue
        const meta = (await ctx.redis.sendCommand(["HMGET", key, "state", "from", "last"])) as Array<string | null>
        windows.set(match[1]!, [...(windows.get(match[1]!) ?? []), { account: match[2]!, meta }])
      }
    } while (cursor !== "0")
    const now = new Map<string, string>()
    for (const [customer, list] of windows) {
      const account = windowToRead(list)
      if (account) now.set(customer, account)
    }
    if (now.size > found.size) changed = Date.now()
    found = now
    if (found.size >= tokenOf.size || Date.now() > deadline || Date.now() - changed >= quietMs) break
    await new Promise((r) => setTimeout(r, 500))
  }
  ctx.accounts.length = 0
  for (const [customer, account] of found)
    ctx.accounts.push({ token: tokenOf.get(customer)!, customerId: customer, account })
  ctx.say(`${ctx.accounts.length} of ${ctx.tokens.length} logged-in customers have a prefetched transactions window`)
  return ctx.accounts.length > 0
    ? undefined
    : `none of the ${ctx.tokens.length} logged-in customers has a prefetched transactions window answering a page`
}

const pageLua = readFileSync(new URL("../../../packages/prefetch/src/lua/page.lua", import.meta.url), "utf8")

/**
 * How many of `accounts` have no window that answers their newest page now (page.lua, as the
 * edge runs it): the edge answers those from PostgreSQL. A window that answered before a run and
 * after it answered throughout (only a new login's prefetch makes one).
 */
export const unreadableWindows = async (
  redis: BenchContext["redis"],
  accounts: ReadonlyArray<OwnAccount>
): Promise<number> => {
  let missing = 0
  for (const { customerId, account } of accounts) {
    const tag = `{c:${customerId}}`
    const reply = await redis.sendCommand([
      "EVAL",
      pageLua,
      "2",
      `${tag}:txmeta:${account}`,
      `${tag}:txns:${account}`,
      "",
      "20"
    ])
    if (!Array.isArray(reply) || reply.length < 2) missing++
  }
  return missing
}

/** scripts/bench/kdf.ts in its own process with the identity process's thread-pool size. */
const bareKdf = (seconds: number, threads: number) =>
  new Promise<{ perSecond: number; threads: number; params: { N: number; r: number; p: number } }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", "scripts/bench/kdf.ts", String(seconds)], {
        cwd: root,
        env: { ...process.env, UV_THREADPOOL_SIZE: String(threads) },
        stdio: ["ignore", "pipe", "inherit"]
      })
      let result: string | undefined
      createInterface({ input: child.stdout! }).on("line", (line) => (result = line))
      child.once("exit", (code) =>
        code === 0 && result ? resolve(JSON.parse(result)) : reject(new Error(`kdf.ts exited with ${code}`))
      )
    }
  )

/**
 * What keeps logins below the bare KDF: the KDF's hashing competes for the same cores with
 * every other process a login wakes up (the edge, Redis, the session projector, prefetch and its
 * PostgreSQL queries, the load generator).
 */
const loginBound = (processes: ReadonlyArray<ProcessCpu>, kdfCores: number | undefined) => {
  const identity = processes.find((p) => p.name.includes("identity"))?.cores ?? 0
  const others = processes.filter((p) => !p.name.includes("identity"))
  const otherCores = others.reduce((s, p) => s + p.cores, 0)
  return (
    `the identity process (KDF pool and actor) got ${fmt(identity, 2)} cores against the bare KDF's ${kdfCores === undefined ? "?" : fmt(kdfCores, 2)}; ` +
    `the rest of a login took ${fmt(otherCores, 2)} cores (${others
      .slice(0, 4)
      .map((p) => `${p.name} ${fmt(p.cores, 2)}`)
      .join(", ")})`
  )
}

export const loginThroughput = async (
  ctx: BenchContext,
  customers: number,
  poolUsers: number,
  loginFailure: string | undefined
) => {
  const group = "Login"
  // The identity process sizes its pool the same way (packages/identity/src/main.ts).
  const threads = Number(ctx.stack.env.IDENTITY_KDF_THREADS ?? Math.max(4, availableParallelism()))
  ctx.say(`bare KDF: scrypt verifications on ${threads} threads`)
  const meter = cpuMeter()
  const perProcess = processMeter(ctx.known)
  // Read the processes just before the KDF process ends: an ended process's time is gone.
  const kdfProcesses = new Promise<ReturnType<typeof perProcess>>((r) =>
    setTimeout(() => r(perProcess()), Math.max(1, ctx.seconds - 0.5) * 1000)
  )
  const kdf = await bareKdf(ctx.seconds, threads)
  const kdfCpu = meter()
  const kdfProcessList = await kdfProcesses
  const kdfCores = kdfProcessList.find((p) => p.name.includes("kdf"))?.cores
  ctx.figures.push({
    group,
    label: "bare KDF (scrypt verify, no HTTP)",
    value: kdf.perSecond,
    unit: "verifications/s",
    detail: `scrypt N=${kdf.params.N}, r=${kdf.params.r}, p=${kdf.params.p}; ${kdf.threads} at once`,
    cpu: kdfCpu,
    processes: kdfProcessList,
    chart: "login"
  })
  if (loginFailure) {
    ctx.figures.push(notMeasured(group, "login throughput (POST /v1/auth/login)", "logins/s", loginFailure))
    return
  }
  // Users beyond the token pool, each once if the run allows, each from its own address, as in
  // a login storm; a second round stays far below the per-username limit.
  let n = 0
  const span = Math.max(1, customers - poolUsers)
  ctx.say("login throughput through the edge and the identity actor")
  const run = await saturate(ctx, {
    url: `${ctx.stack.baseUrl}/v1/auth/login`,
    method: "POST",
    body: "{}",
    connections: 16,
    vary: (request) => {
      const user = poolUsers + 1 + (n++ % span)
      request.headers["x-forwarded-for"] = addressOf(user)
      return {
        headers: request.headers,
        body: JSON.stringify({ username: `demo${user}`, password: PASSWORD, deviceId: `bench-${user}` })
      }
    }
  })
  ctx.figures.push({
    group,
    label: "login throughput (POST /v1/auth/login)",
    value: run.result.perSecond,
    unit: "logins/s",
    detail: `${latencyText(run.result)}; 16 connections, distinct users`,
    baseline: { label: "bare KDF", value: kdf.perSecond },
    target: {
      text: `at least 85% of the bare KDF${run.result.perSecond >= 0.85 * kdf.perSecond ? "" : `; bound: ${loginBound(run.processes, kdfCores)}`}`,
      met: run.result.perSecond >= 0.85 * kdf.perSecond
    },
    cpu: run.cpu,
    processes: run.processes,
    chart: "login"
  })
  ctx.method.push(
    `Login: the bare KDF is \`scripts/bench/kdf.ts\`, scrypt verifications with the production parameters in a process of its own with UV_THREADPOOL_SIZE=${threads} (the identity process's default), ${threads} at a time for ${ctx.seconds} s. ` +
      `Login throughput: autocannon POSTs /v1/auth/login on 16 connections for ${ctx.seconds} s after warm-up, each request a different demo user with its own X-Forwarded-For (the stack trusts one proxy hop), through the edge, the identity request stream and the identity actor; only 200 answers count.`
  )
}
