// Identity benchmark (not a test): `npx tsx scripts/bench-identity.ts [--logins N] [--checks N]`.
// On a private Redis, in one process (edge, identity actor and the load generator share the
// machine, as they would on a one-box deployment):
//   1. bare scrypt: password verifications per second at the production cost (N=16384), as
//      many at once as libuv has threads: the ceiling any login path can reach;
//   2. login throughput over HTTP (edge → identity.requests → actor → reply) with the same
//      hashes, and the ratio to (1);
//   3. the answer time of a wrong password and of an unknown username (both must cost one
//      scrypt: no user enumeration by timing);
//   4. the token check's added latency: p50/p99 of the same trivial route with and without the
//      check, sequential requests, with the direct lookup (one HGETALL) and with RESP3
//      client-side caching.
// Credentials are written straight into the projection (the CDC path has its own benchmark).
import { availableParallelism } from "node:os"

const threads = Number(process.env.IDENTITY_KDF_THREADS ?? Math.max(4, availableParallelism()))
process.env.UV_THREADPOOL_SIZE = String(threads)

const { CommandLine } = await import("@bank/platform")
const { values } = CommandLine.parse({
  name: "npx tsx scripts/bench-identity.ts",
  summary:
    "Identity benchmark on a private Redis: bare scrypt, login throughput, timing of refusals, the token check's cost.",
  options: {
    logins: { type: "string", value: "N", description: "logins to time (default 200)" },
    checks: { type: "string", value: "N", description: "token checks to time (default 2000)" }
  }
})
const loginCount = CommandLine.positiveInt("bench-identity", "logins", values.logins) ?? 200
const checkCount = CommandLine.positiveInt("bench-identity", "checks", values.checks) ?? 2000

const { Effect, Layer, ManagedRuntime, References } = await import("effect")
const Identity = await import("@bank/identity")
const { EdgeServer } = await import("@bank/http")
const { Database, PasswordHash, RedisClient, StreamLog } = await import("@bank/platform")
const { startRedis } = await import("@bank/test-kit")

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!
const ms = (n: number) => `${n.toFixed(3)} ms`
const summary = (samples: Array<number>) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
}
const pool = async <A>(count: number, concurrency: number, task: (i: number) => Promise<A>) => {
  let next = 0
  const results: Array<A> = []
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++
        results[i] = await task(i)
      }
    })
  )
  return results
}

console.log(`identity benchmark: ${availableParallelism()} CPUs, libuv thread pool ${threads}, Node ${process.version}`)
const redis = await startRedis()
const COST = PasswordHash.defaultParams.N
const PASSWORD = "benchmark password"
const users = 50
const hash = await Effect.runPromise(PasswordHash.hash(PASSWORD))

// 1. Bare scrypt, measured before and after the logins (the machine may be shared: the mean of both).
const verifications = Math.max(80, threads * 20)
const bareScrypt = async () => {
  const t = performance.now()
  await pool(verifications, threads, () => Effect.runPromise(PasswordHash.verify(PASSWORD, hash)))
  return verifications / ((performance.now() - t) / 1000)
}
const scryptBefore = await bareScrypt()

// The system under test.
const settings = Identity.IdentityConfig.make({
  usernameRateLimit: 1_000_000,
  addressRateLimit: 1_000_000,
  maxSessions: 1_000,
  concurrency: threads * 2
})
const benchRoutes = (app: any) => {
  app.get("/v1/bench/ping", (c: any) => c.json({ ok: true }))
  app.get("/bench/ping", (c: any) => c.json({ ok: true }))
}
const start = async (tokenCache: boolean) => {
  const runtime = ManagedRuntime.make(
    Layer.mergeAll(
      EdgeServer.layer({
        port: 0,
        hostname: "127.0.0.1",
        problems: Identity.problems,
        routes: [
          (app, run) => {
            app.use("/v1/*", Identity.tokenCheck(run))
          },
          Identity.identityRoutes,
          benchRoutes
        ]
      }).pipe(Layer.provide(Identity.edgeLayer)),
      tokenCache ? Layer.empty : Identity.actorsLayer
    ).pipe(
      Layer.provide(Identity.IdentityConfig.layer({ ...settings, tokenCache })),
      Layer.provideMerge(
        Layer.mergeAll(RedisClient.layer(redis.url), Database.layer("postgres://unused@127.0.0.1:1/none"))
      ),
      Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
    )
  )
  const port = await runtime.runPromise(EdgeServer.EdgeServer.useSync((s) => s.port))
  return { runtime, base: `http://127.0.0.1:${port}` }
}
const direct = await start(false)
await direct.runtime.runPromise(
  Effect.forEach(
    Array.from({ length: users }, (_, i) => i + 1),
    (id) =>
      Identity.CredentialsProjection.apply({
        _tag: "RowChanged",
        schema: "customer",
        table: "credentials",
        op: "insert",
        key: { customer_id: String(id) },
        new: { customer_id: String(id), username: `bench${id}`, password_hash: hash, status: "active" },
        commitLsn: "0/1",
        seq: id,
        commitTime: "",
        xid: 1
      })
  ).pipe(Effect.provide(StreamLog.layer))
)

const login = (base: string, username: string, password = PASSWORD) =>
  fetch(`${base}/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password })
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as { accessToken?: string } }))

// 2. Login throughput.
await pool(threads, threads, (i) => login(direct.base, `bench${i + 1}`)) // warm-up
const started = performance.now()
const statuses = await pool(loginCount, threads * 2, (i) =>
  login(direct.base, `bench${(i % users) + 1}`).then((r) => r.status)
)
const loginsPerSecond = loginCount / ((performance.now() - started) / 1000)
const failed = statuses.filter((s) => s !== 200).length
const scryptAfter = await bareScrypt()
const scryptPerSecond = (scryptBefore + scryptAfter) / 2
console.log(
  `1. bare scrypt (N=${COST}, r=8, p=1, ${threads} at once): ${scryptPerSecond.toFixed(1)} verifications/s` +
    ` (${scryptBefore.toFixed(1)} before the logins, ${scryptAfter.toFixed(1)} after)`
)
console.log(
  `2. login over HTTP: ${loginsPerSecond.toFixed(1)} logins/s (${loginCount}, ${threads * 2} concurrent${failed ? `, ${failed} failed` : ""})` +
    ` = ${((loginsPerSecond / scryptPerSecond) * 100).toFixed(0)}% of bare scrypt`
)

// 3. Wrong password vs unknown username (sequential, interleaved).
const wrong: Array<number> = []
const unknown: Array<number> = []
for (let i = 0; i < 20; i++) {
  for (const [samples, username] of [
    [wrong, `bench${(i % users) + 1}`],
    [unknown, `nobody${i}`]
  ] as const) {
    const t = performance.now()
    await login(direct.base, username, "not the password")
    samples.push(performance.now() - t)
  }
}
const w = summary(wrong)
const u = summary(unknown)
console.log(
  `3. failed login answer time p50/p99: wrong password ${ms(w.p50)} / ${ms(w.p99)}, unknown user ${ms(u.p50)} / ${ms(u.p99)}`
)

// 4. Token check latency.
const benchLogin = await login(direct.base, "bench1")
const accessToken = benchLogin.body.accessToken
if (!accessToken)
  throw new Error(`login for the token check answered ${benchLogin.status}: ${JSON.stringify(benchLogin.body)}`)
// Alternating requests without and with the check, so a busy neighbour slows both alike.
const latency = async (base: string, token: string) => {
  const without: Array<number> = []
  const withCheck: Array<number> = []
  const time = async (path: string, headers: Record<string, string>, samples: Array<number> | undefined) => {
    const t = performance.now()
    const response = await fetch(`${base}${path}`, { headers })
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}`)
    await response.arrayBuffer()
    samples?.push(performance.now() - t)
  }
  for (let i = 0; i < checkCount + 200; i++) {
    const keep = i >= 200 // the first 200 warm up
    await time("/bench/ping", {}, keep ? without : undefined)
    await time("/v1/bench/ping", { Authorization: `Bearer ${token}` }, keep ? withCheck : undefined)
  }
  return [summary(without), summary(withCheck)] as const
}
const cached = await start(true)
const line = (name: string, [a, b]: readonly [{ p50: number; p99: number }, { p50: number; p99: number }]) =>
  console.log(
    `   ${name}: without ${ms(a.p50)} / ${ms(a.p99)}, with ${ms(b.p50)} / ${ms(b.p99)}, added p50 ${ms(b.p50 - a.p50)}, p99 ${ms(b.p99 - a.p99)}`
  )
console.log(`4. token check, p50 / p99 of ${checkCount} sequential requests each:`)
line("direct (one HGETALL)", await latency(direct.base, accessToken))
line("client-side cache", await latency(cached.base, accessToken))

await cached.runtime.dispose()
await direct.runtime.dispose()
await redis.stop()
process.exit(0)
