// The prefetch process: `node --import tsx packages/prefetch/src/main.ts` (processes.json). Runs
// the prefetch actors (the `prefetch` consumer group on `identity.audit`, the four ledgers' CDC
// streams and `cdc.ref`): each login prefetches the customer's recent transactions into Redis,
// CDC keeps them and the reference data caches current (following the reference data's generation
// pointer, so scripts/rebuild.ts reference-data can switch it). Start more of them to scale: each is a
// consumer in the same groups. Reads REDIS_URL, DATABASE_URL and the PREFETCH_* variables (see
// .env.example); SIGTERM or SIGINT stops it gracefully.
import { Process, ReadModel } from "@bank/platform"
import { Layer } from "effect"
import { actorLayer } from "./index.ts"

Process.launch({ name: "prefetch", needs: ["redis", "postgres"] }, actorLayer.pipe(Layer.provide(ReadModel.layer())))
