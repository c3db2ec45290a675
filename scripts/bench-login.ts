// `npx tsx scripts/bench-login.ts [flags]`: the focused form of `npm run bench`'s "Login" group
// (scripts/bench/measure/Login.ts), not a test. Starts the whole system as `npm start` does
// (scripts/bench/Stack.ts), waits until the seeded data is digested, logs in the token pool,
// then measures the bare KDF and login throughput exactly as the report does, with the bound
// (CPU ms per login by process, the identity process by thread, and the profiles of the
// identity, prefetch and edge main threads) when the target is missed. Prints the figures as JSON.
//
//   --customers N     demo customers to seed (default 1000)
//   --seconds S       length of each run (default 10), after --warmup W (default 2)
//   --profiles DIR    keep the V8 CPU profiles of identity, prefetch and the edge in DIR (login-<name>.cpuprofile)
//   --before DIR      first the same on a system of another checkout (e.g. a worktree of main),
//                     then on this one: before/after in one run; prints both bounds' CPU figures
import { join } from "node:path"
import { tmpdir } from "node:os"
import { CommandLine } from "@bank/platform"
import { benchContext } from "./bench/Context.ts"
import { loginThroughput, tokenPool } from "./bench/measure/Login.ts"
import { numberOf, progress, runOptions } from "./bench/RunOptions.ts"
import { startStack } from "./bench/Stack.ts"
import { connect, waitCaughtUp } from "./bench/Streams.ts"

const { values } = CommandLine.parse({
  name: "npx tsx scripts/bench-login.ts",
  summary: "Bare KDF and login throughput on the whole system, with the bound when the target is missed.",
  options: {
    ...runOptions({ customers: 1000, seconds: 10, warmup: 2 }),
    profiles: { type: "string", value: "DIR", description: "keep the CPU profiles in DIR" },
    before: { type: "string", value: "DIR", description: "measure a system of this checkout first" }
  }
})
const number = (flag: string, text: string | undefined, fallback: number) =>
  numberOf("bench-login", flag, text, fallback)
const customers = number("customers", values.customers, 1000)
const seconds = number("seconds", values.seconds, 10)
const warmupSeconds = number("warmup", values.warmup, 2)
if (values.profiles) process.env.BENCH_PROFILE_DIR = values.profiles
const poolUsers = Math.min(200, Math.max(1, Math.floor(customers / 5)))
const say = progress("bench-login")

/** The login group on a system started from checkout `dir` (this one when undefined). */
const measure = async (dir: string | undefined) => {
  const logFile = join(tmpdir(), `bank-bench-login-${Date.now()}.log`)
  say(`starting the system of ${dir ?? "this checkout"} (${customers} customers); output in ${logFile}`)
  const stack = await startStack({ customers, logFile, ...(dir ? { dir } : {}) })
  try {
    const redis = await connect(stack.redis.url)
    await waitCaughtUp(redis, { timeoutMs: 600_000 })
    const ctx = benchContext(stack, redis, { seconds, warmupSeconds, connections: 16, say })
    const failure = await tokenPool(ctx, poolUsers)
    await loginThroughput(ctx, customers, poolUsers, failure)
    await redis.close()
    return ctx.figures
  } finally {
    say("stopping")
    await stack.stop()
  }
}

const runs: Array<[string, Awaited<ReturnType<typeof measure>>]> = []
if (values.before) runs.push([`before (${values.before})`, await measure(values.before)])
runs.push(["this checkout", await measure(undefined)])
for (const [label, figures] of runs) {
  console.log(`## ${label}`)
  for (const f of figures)
    console.log(
      `- ${f.label}: ${f.value?.toFixed(1)} ${f.unit}${f.baseline ? ` (${(f.value! / f.baseline.value).toFixed(2)}× ${f.baseline.label})` : ""}${f.target ? `; ${f.target.text}` : ""}`
    )
}
process.exit(0)
