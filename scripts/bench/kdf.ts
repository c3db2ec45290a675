// The bare KDF: password verifications per second with the production scrypt cost, as many at
// once as libuv has threads (UV_THREADPOOL_SIZE, which the parent sets to the identity
// process's IDENTITY_KDF_THREADS default so both run the same number of hashes at once).
// No HTTP, no Redis, no streams: the ceiling a login can reach on these cores.
//   node --import tsx scripts/bench/kdf.ts <seconds>   → one JSON line on stdout
import { PasswordHash } from "@bank/platform"
import { Effect } from "effect"

const seconds = Number(process.argv[2] ?? 10)
const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4)
const encoded = await Effect.runPromise(PasswordHash.hash("benchmark password"))
const verify = () => Effect.runPromise(PasswordHash.verify("benchmark password", encoded))

// One round first, so the thread pool exists before the clock starts.
await Promise.all(Array.from({ length: threads }, verify))
let done = 0
const started = performance.now()
const deadline = started + seconds * 1000
await Promise.all(
  Array.from({ length: threads }, async () => {
    while (performance.now() < deadline) {
      if (!(await verify())) throw new Error("scrypt verification failed")
      done += 1
    }
  })
)
const elapsed = (performance.now() - started) / 1000
console.log(
  JSON.stringify({
    verifications: done,
    seconds: elapsed,
    perSecond: done / elapsed,
    threads,
    params: PasswordHash.defaultParams
  })
)
