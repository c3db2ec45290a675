// Redis Cluster benchmark (not a test): `npx tsx scripts/bench-cluster.ts [--seconds S]`.
// In one run, on a private single Redis and a private 6-node Redis Cluster (3 masters, 3
// replicas) on this machine, through the platform's own client (RedisClient.layer):
//   1. dashboard reads: documents read per second (DocumentStore.getRaw of 1,000 customers'
//      dashboards, 64 at once), cluster vs single;
//   2. a login's Redis writes (session opened in the customer's slot, access and refresh token
//      records) per second, 32 at once: single, cluster without WAIT, cluster with WAIT 1
//      (Durability.durable), and one token write alone with and without WAIT 1;
//   3. the failover window: SIGKILL the master of a customer's slot, then time until a read of
//      that customer's document answers again (what the edge sees).
// Ratios are within this run; absolute numbers depend on the machine (all servers share it).
import { CommandLine } from "@bank/platform"

const { values } = CommandLine.parse({
  name: "npx tsx scripts/bench-cluster.ts",
  summary: "Single Redis vs Redis Cluster: dashboard reads, login writes with and without WAIT 1, the failover window.",
  options: { seconds: { type: "string", value: "S", description: "seconds per measurement (default 5)" } }
})
const seconds = CommandLine.positiveInt("bench-cluster", "seconds", values.seconds) ?? 5

const { Effect, Layer, ManagedRuntime } = await import("effect")
const { DocumentStore, Durability, Keys, RedisClient } = await import("@bank/platform")
const Identity = await import("@bank/identity")
const { startRedis, startRedisCluster } = await import("@bank/test-kit")

const CUSTOMERS = 1000
const dashboard = {
  customerId: "",
  balances: Array.from({ length: 6 }, (_, i) => ({ product: `p${i}`, amount: "1234.56", currency: "EUR" })),
  latest: Array.from({ length: 10 }, (_, i) => ({
    id: i,
    amount: "-12.34",
    description: "Card payment at a shop",
    bookedAt: "2026-12-01T10:00:00Z"
  }))
}

type Runtime = import("effect").ManagedRuntime.ManagedRuntime<any, any>
const rate = async (runtime: Runtime, concurrency: number, op: (i: number) => any): Promise<number> => {
  let done = 0
  const until = Date.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = worker; Date.now() < until; i += concurrency) {
        // A failed operation (a connection that timed out on this loaded machine) counts as not done.
        if (
          await runtime.runPromise(op(i)).then(
            () => true,
            () => false
          )
        )
          done++
      }
    })
  )
  return done / seconds
}

const loginWrites = (i: number) =>
  Effect.gen(function* () {
    const customerId = `bench-${i % CUSTOMERS}`
    const sessionId = `s-${i}`
    const now = Date.now()
    yield* Identity.SessionStore.open({
      customerId,
      sessionId,
      now,
      deadline: now + 600_000,
      absolute: now + 3_600_000,
      accessHash: `a${i}`,
      refreshHash: `r${i}`,
      cap: 1000,
      policy: "evict-oldest"
    })
    const principal = { customerId, sessionId, roles: ["customer"] }
    yield* Identity.TokenStore.putAccess(`access-${i}`, principal, 600_000)
    yield* Identity.TokenStore.putRefresh(`refresh-${i}`, principal, 3_600_000)
  })
const withWait =
  (replicas: number) =>
  <A, E, R>(effect: import("effect").Effect.Effect<A, E, R>) =>
    Durability.durable(effect).pipe(Effect.provideService(Durability.DurabilitySettings, { replicas, timeoutMs: 500 }))

const measure = async (name: string, url: string) => {
  const runtime = ManagedRuntime.make(
    DocumentStore.layerBackend("lua").pipe(Layer.provideMerge(RedisClient.layer(url, { waitReplicas: 0 })))
  )
  await runtime.runPromise(
    Effect.gen(function* () {
      const store = yield* DocumentStore.DocumentStore
      yield* Effect.forEach(
        Array.from({ length: CUSTOMERS }, (_, i) => i),
        (i) =>
          store.set(Keys.customer(`bench-${i}`).document("dashboard"), "$", {
            ...dashboard,
            customerId: `bench-${i}`
          } as never),
        { concurrency: 32 }
      )
    })
  )
  const read = (i: number) =>
    DocumentStore.DocumentStore.use((s) => s.getRaw(Keys.customer(`bench-${i % CUSTOMERS}`).document("dashboard")))
  const results = {
    reads: await rate(runtime, 64, read),
    logins: await rate(runtime, 32, (i) => withWait(0)(loginWrites(i))),
    loginsWait:
      name === "cluster" ? await rate(runtime, 32, (i) => withWait(1)(loginWrites(i + 1_000_000))) : Number.NaN,
    tokens: await rate(runtime, 32, (i) =>
      withWait(0)(Identity.TokenStore.putAccess(`t-${i}`, { customerId: "c", sessionId: "s", roles: [] }, 60_000))
    ),
    tokensWait:
      name === "cluster"
        ? await rate(runtime, 32, (i) =>
            withWait(1)(
              Identity.TokenStore.putAccess(`tw-${i}`, { customerId: "c", sessionId: "s", roles: [] }, 60_000)
            )
          )
        : Number.NaN
  }
  return { runtime, results }
}

const fixed = (n: number) => (Number.isNaN(n) ? "-" : n.toFixed(0))
const single = await startRedis({ appendonly: true })
const cluster = await startRedisCluster()
try {
  const one = await measure("single", single.url)
  await one.runtime.dispose()
  const many = await measure("cluster", cluster.url)

  // The failover window as the edge sees it: a customer's dashboard read.
  const key = Keys.customer("bench-7").document("dashboard")
  const master = await cluster.masterOf(key)
  const killedAt = Date.now()
  await master.kill()
  let failed = 0
  while (true) {
    const ok = await many.runtime.runPromise(
      DocumentStore.DocumentStore.use((s) => s.getRaw(key)).pipe(Effect.isSuccess) as import("effect").Effect.Effect<
        boolean,
        never,
        never
      >
    )
    if (ok) break
    failed++
    await new Promise((r) => setTimeout(r, 20))
  }
  const windowMs = Date.now() - killedAt
  await many.runtime.dispose()

  const s = one.results
  const c = many.results
  console.log(
    `\nRedis Cluster benchmark (${seconds} s per figure; single Redis with AOF vs 3 masters + 3 replicas with AOF, all on this machine)`
  )
  console.log(
    `  dashboard reads/s     single ${fixed(s.reads)}   cluster ${fixed(c.reads)}   ratio ${(c.reads / s.reads).toFixed(2)}`
  )
  console.log(
    `  login writes/s        single ${fixed(s.logins)}   cluster ${fixed(c.logins)}   ratio ${(c.logins / s.logins).toFixed(2)}`
  )
  console.log(
    `  login writes/s WAIT 1 cluster ${fixed(c.loginsWait)}   vs without WAIT ${(c.loginsWait / c.logins).toFixed(2)}`
  )
  console.log(
    `  token writes/s        single ${fixed(s.tokens)}   cluster ${fixed(c.tokens)}   with WAIT 1 ${fixed(c.tokensWait)} (ratio ${(c.tokensWait / c.tokens).toFixed(2)})`
  )
  console.log(
    `  failover window       SIGKILL of a master → first successful read of its customer: ${windowMs} ms (${failed} failed attempts, 20 ms apart)`
  )
} finally {
  await cluster.stop()
  await single.stop()
}
