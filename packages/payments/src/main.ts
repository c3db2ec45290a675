// The payments process: `node --import tsx packages/payments/src/main.ts` (processes.json). Runs
// the payments actor (the `payments` consumer group on `payments.commands`), which books
// transfers in PostgreSQL. Start more of them to scale: each is a consumer in the same group.
// Reads REDIS_URL and DATABASE_URL (see .env.example); SIGTERM or SIGINT stops it gracefully.
import { Process } from "@bank/platform"
import { actorLayer } from "./index.ts"

Process.launch({ name: "payments", needs: ["redis", "postgres"] }, actorLayer)
