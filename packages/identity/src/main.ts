// The identity process: `node --import tsx packages/identity/src/main.ts` (processes.json). Runs the identity actor (logins,
// refresh, logout, revocation on `identity.requests`), the credentials projection
// (`cdc.identity` into login data) and the session projector (`session.events` into session
// documents). Start more of them to scale: each is a consumer in the same groups.
// Reads REDIS_URL and the IDENTITY_* variables (see .env.example); SIGTERM or SIGINT stops it
// gracefully.
//
// Password checks run scrypt on libuv's thread pool, so its size bounds how many run at once.
// It is fixed when the pool first starts, so it is set here, before anything is imported:
// IDENTITY_KDF_THREADS, by default the number of CPUs (at least 4, libuv's own default).
import { availableParallelism } from "node:os"

const threads = Number(process.env.IDENTITY_KDF_THREADS ?? Math.max(4, availableParallelism()))
if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
  console.error(`IDENTITY_KDF_THREADS must be an integer from 1 to 1024, not ${process.env.IDENTITY_KDF_THREADS}`)
  process.exit(2)
}
process.env.UV_THREADPOOL_SIZE = String(threads)

const { launch } = await import("./Process.ts")
launch(threads)
