// Logins: a pool of logged-in demo users (their tokens feed every measurement behind the token
// check), login throughput through the real edge and identity actor, and the bare KDF on the
// same cores as its ceiling.
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Keys } from "@bank/platform"
import { addressOf } from "../../../load/flows/Api.ts"
import { latencyText, type BenchContext, type OwnAccount } from "../Context.ts"
import { fmt, notMeasured } from "../Figures.ts"
import { load, type LoadOptions } from "../Http.ts"
import * as Inspector from "../Inspector.ts"
import { cpuMeter } from "../Machine.ts"
import { type ProcessCpu, pidsNamed, processMeter, threadMeter } from "../Processes.ts"
import * as ProfileSummary from "../ProfileSummary.ts"

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

const pct = (x: number) => `${(x * 100).toFixed(1)}%`

/** "fn file:line 12.3%, ..." for the top `n` self-time frames of a profile's busy time. */
const topFunctions = (s: ProfileSummary.Summary, n: number) =>
  s.functions
    .slice(0, n)
    .map((f) => `${f.name} ${pct(f.share)}`)
    .join(", ")

type CommandStats = Map<string, { calls: number; usec: number }>

/** Redis's INFO commandstats: calls and µs per command since the server started. */
const commandStats = async (ctx: BenchContext): Promise<CommandStats> => {
  const info = String(await ctx.redis.sendCommand(["INFO", "commandstats"]))
  return new Map(
    [...info.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)].map((m) => [
      m[1]!,
      { calls: Number(m[2]), usec: Number(m[3]) }
    ])
  )
}

/** "41 Redis commands a login (evalsha 9, xadd 6, ...), 310 µs of Redis command time" between two snapshots. */
const commandsPerLogin = (before: CommandStats, after: CommandStats, logins: number) => {
  const diff = [...after]
    .map(([name, a]) => ({
      name,
      calls: (a.calls - (before.get(name)?.calls ?? 0)) / logins,
      usec: (a.usec - (before.get(name)?.usec ?? 0)) / logins
    }))
    .filter((c) => c.calls > 0)
    .sort((a, b) => b.calls - a.calls)
  const calls = diff.reduce((s, c) => s + c.calls, 0)
  const usec = diff.reduce((s, c) => s + c.usec, 0)
  return `${fmt(calls, 1)} Redis commands a login (${diff
    .slice(0, 6)
    .map((c) => `${c.name} ${fmt(c.calls, 1)}`)
    .join(", ")}), ${fmt(usec, 0)} µs of Redis command time`
}

/** The profiled processes: whose main thread is sampled during the profiled run. */
const profiled = ["identity", "prefetch", "edge"] as const

interface Profiled {
  readonly summary: ProfileSummary.Summary
  /** The profiled run's logins, and the process's main thread's CPU seconds meanwhile (/proc). */
  readonly logins: number
  readonly mainThreadSeconds: number
}

/** Samples the main threads of `names` (npm start's processes) while `run` runs the load. */
const profileMainThreads = async (
  ctx: BenchContext,
  names: ReadonlyArray<string>,
  run: () => Promise<{ readonly ok: number }>
): Promise<Map<string, Profiled | string>> => {
  const sessions = await Promise.all(
    names.map(async (name) => {
      const pid = pidsNamed(ctx.known, name)[0]
      if (pid === undefined) return [name, `no ${name} process`] as const
      return Inspector.profile(pid).then(
        (p) => [name, p] as const,
        (error: unknown) => [name, error instanceof Error ? error.message : String(error)] as const
      )
    })
  )
  const threads = new Map(names.map((name) => [name, threadMeter(pidsNamed(ctx.known, name))]))
  const { ok } = await run()
  const mainSeconds = new Map(names.map((name) => [name, threads.get(name)!().get("main thread") ?? 0]))
  const out = new Map<string, Profiled | string>()
  for (const [name, session] of sessions) {
    if (typeof session === "string") out.set(name, session)
    else
      out.set(
        name,
        await session.stop().then(
          (profile) => {
            // BENCH_PROFILE_DIR (scripts/bench-login.ts --profiles DIR) keeps the profiles to study.
            const dir = process.env.BENCH_PROFILE_DIR
            if (dir) writeFileSync(join(dir, `login-${name}.cpuprofile`), JSON.stringify(profile))
            return {
              summary: ProfileSummary.profileWindow(profile, ctx.seconds),
              logins: ok,
              mainThreadSeconds: mainSeconds.get(name) ?? 0
            }
          },
          (error: unknown) => `the profile failed: ${error instanceof Error ? error.message : String(error)}`
        )
      )
  }
  return out
}

/**
 * What keeps logins below the bare KDF, per login: the CPU time each process spent (the
 * identity process split into its libuv pool, where scrypt runs, its main thread and V8's
 * helper threads) against the bare KDF's CPU time per verification, and where the main threads
 * of identity, prefetch and the edge spent theirs (V8 CPU profiles of a second run).
 */
const loginBound = (
  processes: ReadonlyArray<ProcessCpu>,
  perSecond: number,
  identityThreads: ReadonlyMap<string, number>,
  seconds: number,
  kdfMsPerVerification: number | undefined,
  busyCores: number | undefined,
  kdfPerSecond: number,
  redisText: string,
  profiles: Map<string, Profiled | string>
) => {
  const ms = (cores: number) => (cores * 1000) / Math.max(1e-9, perSecond)
  const total = processes.reduce((s, p) => s + ms(p.cores), 0)
  // CPU time of the machine's other work (not ours) over the same run, per login.
  const others = busyCores === undefined ? undefined : Math.max(0, ms(busyCores) - total)
  const identity = processes.find((p) => p.name === "identity")
  const threadText = [...identityThreads]
    .filter(([, cpuSeconds]) => cpuSeconds > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, cpuSeconds]) => `${kind} ${fmt(ms(cpuSeconds / seconds), 1)}`)
    .join(", ")
  const byProcess = processes
    .map((p) => `${p.name} ${fmt(ms(p.cores), 1)}${p === identity && threadText ? ` (${threadText})` : ""}`)
    .join(", ")
  const profileText = profiled
    .map((name) => {
      const p = profiles.get(name)
      if (p === undefined) return undefined
      if (typeof p === "string") return `${name}: ${p}`
      const s = p.summary
      const perLogin = (ms: number) => fmt(ms / Math.max(1, p.logins), 1)
      // Samples are wall time: busy beyond the CPU time is the thread waiting for a core.
      return (
        `${name}'s main thread busy ${perLogin(s.busyMicros / 1000)} ms a login by the profile, ${perLogin(p.mainThreadSeconds * 1000)} ms of CPU (/proc; the difference is waiting for a core), ` +
        `${ProfileSummary.text(s, 4)}; top self time: ${topFunctions(s, 6)}`
      )
    })
    .filter((t) => t !== undefined)
    .join("; ")
  return (
    `CPU ms per login ${fmt(total, 1)} against the bare KDF's ${kdfMsPerVerification === undefined ? "?" : fmt(kdfMsPerVerification, 1)} per verification: ${byProcess}` +
    (others === undefined ? "" : `; the machine's other work (not ours) ${fmt(others, 1)} ms per login`) +
    // What this CPU cost per login allows with every core busy with logins and nothing else.
    `; ${redisText}` +
    // Against the verifications the same cores give the bare KDF at its CPU cost (steadier than
    // its measured rate, which whatever else runs on the machine meanwhile lowers).
    `; at that cost all ${availableParallelism()} cores would give ${fmt((availableParallelism() * 1000) / Math.max(1e-9, total), 1)} logins/s, ${
      kdfMsPerVerification === undefined
        ? `${fmt((availableParallelism() * 1000) / Math.max(1e-9, total) / kdfPerSecond, 2)}× the bare KDF's rate`
        : `${fmt(kdfMsPerVerification / Math.max(1e-9, total), 2)}× the verifications they would give the bare KDF`
    }` +
    (profileText ? `; profiles of a second run: ${profileText}` : "")
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
  const options: LoadOptions = {
    url: `${ctx.stack.baseUrl}/v1/auth/login`,
    method: "POST",
    body: "{}",
    connections: 16,
    seconds: ctx.seconds,
    vary: (request) => {
      const user = poolUsers + 1 + (n++ % span)
      request.headers["x-forwarded-for"] = addressOf(user)
      return {
        headers: request.headers,
        body: JSON.stringify({ username: `demo${user}`, password: PASSWORD, deviceId: `bench-${user}` })
      }
    }
  }
  if (ctx.warmupSeconds > 0) await load({ ...options, seconds: ctx.warmupSeconds })
  const loginMeter = cpuMeter()
  const loginProcesses = processMeter(ctx.known)
  const identityThreads = threadMeter(pidsNamed(ctx.known, "identity"))
  const statsBefore = await commandStats(ctx)
  const started = performance.now()
  const result = await load(options)
  const threadSeconds = identityThreads()
  const elapsed = (performance.now() - started) / 1000
  const run = { result, cpu: loginMeter(), processes: loginProcesses() }
  const redisText = commandsPerLogin(statsBefore, await commandStats(ctx), Math.max(1, result.ok))
  const met = run.result.perSecond >= 0.85 * kdf.perSecond
  // Where the time goes, from a second run with the main threads of identity, prefetch and the edge
  // sampled (the profiler's own cost stays out of the figure above).
  let bound = ""
  if (!met) {
    ctx.say("login throughput again, identity, prefetch and the edge profiled")
    const profiles = await profileMainThreads(ctx, profiled, () => load(options))
    const kdfMs = kdfCores === undefined ? undefined : (kdfCores * 1000) / kdf.perSecond
    const busyCores = run.cpu === undefined ? undefined : run.cpu.busy * availableParallelism()
    bound = `; bound: ${loginBound(run.processes, run.result.perSecond, threadSeconds, elapsed, kdfMs, busyCores, kdf.perSecond, redisText, profiles)}`
  }
  ctx.figures.push({
    group,
    label: "login throughput (POST /v1/auth/login)",
    value: run.result.perSecond,
    unit: "logins/s",
    detail: `${latencyText(run.result)}; 16 connections, distinct users`,
    baseline: { label: "bare KDF", value: kdf.perSecond },
    target: { text: `at least 85% of the bare KDF${bound}`, met },
    cpu: run.cpu,
    processes: run.processes,
    chart: "login"
  })
  ctx.method.push(
    `Login: the bare KDF is \`scripts/bench/kdf.ts\`, scrypt verifications with the production parameters in a process of its own with UV_THREADPOOL_SIZE=${threads} (the identity process's default), ${threads} at a time for ${ctx.seconds} s. ` +
      `Login throughput: autocannon POSTs /v1/auth/login on 16 connections for ${ctx.seconds} s after warm-up, each request a different demo user with its own X-Forwarded-For (the stack trusts one proxy hop), through the edge, the identity request stream and the identity actor; only 200 answers count. ` +
      "When the target is missed, the bound is the CPU time per login of each process over the measured run (/proc; the identity process split by thread: libuv's pool, where scrypt runs, the main thread, V8's helper threads), against the bare KDF's CPU time per verification, and V8 CPU profiles (1 ms sampling, through the inspector: SIGUSR1 with NODE_OPTIONS=--inspect-port=0) of the identity, prefetch and edge processes' main threads during a second run of the same load: their busy time by area and the top functions by self time."
  )
}
