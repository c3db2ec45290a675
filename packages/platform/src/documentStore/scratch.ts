import { Effect, Layer } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as RedisClient from "../RedisClient.ts"
import { DocumentStore, layerBackend, Op } from "../DocumentStore.ts"

const N = Number(process.argv[2] ?? 20000)
const program = Effect.gen(function*() {
  const s = yield* DocumentStore
  const redis = yield* Redis
  yield* redis.send("CONFIG", "RESETSTAT")
  const customers = 200
  const tx = (i: number) => ({ id: `tx-${i}`, amount: "-12.50", currency: "EUR", merchant: "Coffee Shop Ltd", at: "2026-01-01T10:00:00.000Z", category: "food" })
  for (let c = 0; c < customers; c++) {
    yield* s.set(`{c:${c}}:doc:dashboard`, "$", {
      customerId: `c${c}`, products: { checking: { balance: 123456789, currency: "EUR" }, savings: { balance: 99999, currency: "EUR" }, mortgage: { balance: -25000000, currency: "EUR" } },
      recent: Array.from({ length: 50 }, (_, i) => tx(i)), updatedAt: 0
    })
  }
  const raw = yield* s.getRaw(`{c:0}:doc:dashboard`)
  console.log("doc size", raw._tag === "Some" ? raw.value.length : 0)
  const t0 = performance.now()
  yield* Effect.forEach(Array.from({ length: N }, (_, i) => i), (i) => {
    const key = `{c:${i % customers}}:doc:dashboard`
    return s.apply(key, [Op.incr("$.products.checking.balance", -1250), Op.append("$.recent", [tx(i)], 50), Op.set("$.updatedAt", i)],
      { once: { markerKey: `{c:${i % customers}}:once:${i}`, id: String(i), ttlSeconds: 60 } })
  }, { concurrency: 128, discard: true })
  const ms = performance.now() - t0
  console.log(`${N} applies in ${ms.toFixed(0)} ms: ${(N / ms * 1000).toFixed(0)}/s`)
  const stats = yield* redis.send<string>("INFO", "commandstats")
  console.log(stats.split("\n").filter((l) => /evalsha|cmdstat_get:|cmdstat_set:/.test(l)).join("\n"))
})
Effect.runPromise(program.pipe(Effect.provide(layerBackend("lua").pipe(Layer.provideMerge(RedisClient.layer("redis://127.0.0.1:6470")))))).then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })
