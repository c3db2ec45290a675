// What every measurement of `npm run bench` gets: the running system, a Redis connection to look
// at it, the run lengths, a way to talk to the person watching, and the figures gathered so far
// (later measurements take their baselines from earlier ones).
import { load, type LoadOptions, type LoadResult } from "./Http.ts"
import type { Figure } from "./Figures.ts"
import { cpuMeter, type CpuUse } from "./Machine.ts"
import { processMeter, type Known, type ProcessCpu } from "./Processes.ts"
import type { Stack } from "./Stack.ts"
import type { RedisConnection } from "./Streams.ts"

export interface BenchContext {
  readonly stack: Stack
  readonly redis: RedisConnection
  /** Seconds of each throughput run, after `warmupSeconds` not counted. */
  readonly seconds: number
  readonly warmupSeconds: number
  /** Concurrent connections of a throughput run. */
  readonly connections: number
  readonly say: (text: string) => void
  /** Where a helper process's output goes (the log file). */
  readonly log: (name: string) => (line: string) => void
  readonly figures: Array<Figure>
  /** Access tokens of logged-in demo users, for routes behind the token check. */
  readonly tokens: Array<string>
  /** Of those tokens, each whose customer has an account with a prefetched transactions window, with that account. */
  readonly accounts: Array<OwnAccount>
  /** Method notes for the report, one per kind of figure. */
  readonly method: Array<string>
  /** How to recognise the system's Redis and PostgreSQL processes. */
  readonly known: Known
}

/** A token and an account of its customer (`deposits:10`) whose transactions window is in Redis. */
export interface OwnAccount {
  readonly token: string
  readonly customerId: string
  readonly account: string
}

/** A context for the system `stack`, with no figures, tokens or accounts gathered yet. */
export const benchContext = (
  stack: Stack,
  redis: RedisConnection,
  run: Pick<BenchContext, "seconds" | "warmupSeconds" | "connections" | "say">
): BenchContext => ({
  stack,
  redis,
  ...run,
  log: (name) => (line) => stack.log(`${name} | ${line}`),
  figures: [],
  tokens: [],
  accounts: [],
  method: [],
  known: { redisPort: stack.redis.port, postgresDir: stack.postgres.dir }
})

export interface Saturated {
  readonly result: LoadResult
  readonly cpu: CpuUse | undefined
  readonly processes: ReadonlyArray<ProcessCpu>
}

/** A warm-up, then a measured run at full speed (or at `rate`), with how busy the CPUs were. */
export const saturate = async (
  ctx: BenchContext,
  options: Omit<LoadOptions, "seconds" | "connections"> & { readonly connections?: number }
): Promise<Saturated> => {
  const connections = options.connections ?? ctx.connections
  if (ctx.warmupSeconds > 0) await load({ ...options, connections, seconds: ctx.warmupSeconds })
  const meter = cpuMeter()
  const perProcess = processMeter(ctx.known)
  const result = await load({ ...options, connections, seconds: ctx.seconds })
  return { result, cpu: meter(), processes: perProcess() }
}

/** Rotates through the tokens: each request as a different logged-in customer. */
export const rotatingToken = (tokens: ReadonlyArray<string>) => {
  let i = 0
  return (request: { headers: Record<string, string>; body?: string }) => {
    request.headers.authorization = `Bearer ${tokens[i++ % tokens.length]}`
    return request
  }
}

/** Rotates through `accounts`: each request for the transactions of another customer's own account. */
export const rotatingAccount = (accounts: ReadonlyArray<OwnAccount>) => {
  let i = 0
  return (request: { headers: Record<string, string>; body?: string }) => {
    const { token, account } = accounts[i++ % accounts.length]!
    request.headers.authorization = `Bearer ${token}`
    return { ...request, path: `/v1/accounts/${account}/transactions` }
  }
}

export const latencyText = (r: LoadResult): string =>
  `p50 ${r.latency.p50.toFixed(2)} ms · p99 ${r.latency.p99.toFixed(2)} ms${
    r.unexpected + r.errors > 0
      ? ` · ${r.unexpected} unexpected answers, ${r.errors} errors (${Object.entries(r.statuses)
          .map(([s, n]) => `${s}: ${n}`)
          .join(", ")})`
      : ""
  }`
