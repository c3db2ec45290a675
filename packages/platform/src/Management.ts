// The management endpoint every process serves beside its work (Process.ts starts it), on
// MANAGEMENT_HOST (default 127.0.0.1: not for the internet) and MANAGEMENT_PORT (default 0, a
// free port; `npm start` gives each process its own):
//   GET /healthz   200 while the process runs (liveness)
//   GET /readyz    200 once the process has started and its servers answer; 503 + Retry-After
//   GET /metrics   Prometheus text: Effect's metrics (Metric.*), the consumer groups this
//                  process reads (lag, pending, dead-letter depth: GroupProgress.watch), and
//                  whatever the process adds with `collect` (e.g. the CDC connector's slot lag)
import { Config, Context, Effect, Layer, Option } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { Redis } from "effect/persistence/Redis"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import * as GroupProgress from "./GroupProgress.ts"

export class Management extends Context.Service<
  Management,
  {
    /** Where it listens (the port the OS picked when MANAGEMENT_PORT is 0). */
    readonly url: string
    /** Adds Prometheus text to /metrics, computed at each scrape. */
    readonly collect: (text: Effect.Effect<string>) => void
  }
>()("@bank/platform/Management") {}

export interface Options {
  /** The process's name (a `process` label on its series). */
  readonly name: string
  readonly port: number
  readonly host: string
  /** Whether the process can do its work; /readyz answers 503 until it is true. */
  readonly ready: Effect.Effect<boolean>
}

const escape = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")

/** The watched groups' numbers as Prometheus gauges (read from Redis at each scrape). */
const groupMetrics = Effect.gen(function* () {
  const redis = yield* Effect.serviceOption(Redis)
  const refs = GroupProgress.watched()
  if (Option.isNone(redis) || refs.length === 0) return ""
  const rows = yield* Effect.forEach(refs, (ref) =>
    Effect.all([GroupProgress.state(ref.stream, ref.group), GroupProgress.deadLetterDepth(ref.stream)]).pipe(
      Effect.map(([state, dead]) => ({ ...ref, state, dead })),
      Effect.provideService(Redis, redis.value),
      Effect.option
    )
  )
  const lines = [
    "# HELP consumer_group_lag Entries of the stream not yet delivered to the group.",
    "# TYPE consumer_group_lag gauge",
    "# HELP consumer_group_pending Entries delivered to the group and not yet acknowledged.",
    "# TYPE consumer_group_pending gauge",
    "# HELP dead_letter_depth Entries in the stream's dead-letter stream.",
    "# TYPE dead_letter_depth gauge"
  ]
  const deadDone = new Set<string>()
  for (const row of rows) {
    if (Option.isNone(row)) continue
    const { stream, group, state, dead } = row.value
    const labels = `stream="${escape(stream)}",group="${escape(group)}"`
    lines.push(
      `consumer_group_lag{${labels}} ${state?.lag ?? 0}`,
      `consumer_group_pending{${labels}} ${state?.pending ?? 0}`
    )
    if (!deadDone.has(stream)) {
      deadDone.add(stream)
      lines.push(`dead_letter_depth{stream="${escape(stream)}"} ${dead}`)
    }
  }
  return `${lines.join("\n")}\n`
})

const processMetrics = (name: string) =>
  Effect.sync(() => {
    const memory = process.memoryUsage()
    const label = `process="${escape(name)}"`
    return [
      "# HELP process_resident_memory_bytes Resident memory of the process.",
      "# TYPE process_resident_memory_bytes gauge",
      `process_resident_memory_bytes{${label}} ${memory.rss}`,
      "# HELP process_heap_used_bytes V8 heap in use.",
      "# TYPE process_heap_used_bytes gauge",
      `process_heap_used_bytes{${label}} ${memory.heapUsed}`,
      "# HELP process_uptime_seconds Seconds since the process started.",
      "# TYPE process_uptime_seconds gauge",
      `process_uptime_seconds{${label}} ${process.uptime()}`,
      ""
    ].join("\n")
  })

export const make = (options: Options) =>
  Effect.gen(function* () {
    const context = yield* Effect.context<never>()
    const collectors: Array<Effect.Effect<string>> = [
      processMetrics(options.name),
      groupMetrics,
      PrometheusMetrics.format()
    ]
    const run = <A>(effect: Effect.Effect<A>) => Effect.runPromiseWith(context)(effect)
    const server = createServer((request, response) => {
      const path = (request.url ?? "/").split("?")[0]
      const send = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
        response.writeHead(status, { "content-type": type, ...headers })
        response.end(body)
      }
      if (request.method !== "GET") return send(405, "text/plain", "GET only\n")
      if (path === "/healthz")
        return send(200, "application/json", JSON.stringify({ status: "ok", process: options.name, pid: process.pid }))
      if (path === "/readyz") {
        return void run(
          options.ready.pipe(
            Effect.timeout("2 seconds"),
            Effect.orElseSucceed(() => false)
          )
        ).then((ready) =>
          ready
            ? send(200, "application/json", JSON.stringify({ status: "ok", process: options.name }))
            : send(503, "application/json", JSON.stringify({ status: "not-ready", process: options.name }), {
                "retry-after": "2"
              })
        )
      }
      if (path === "/metrics") {
        return void run(
          Effect.forEach(collectors, (c) => c.pipe(Effect.orElseSucceed(() => "")), { concurrency: "unbounded" })
        ).then(
          (parts) => send(200, "text/plain; version=0.0.4; charset=utf-8", parts.join("")),
          () => send(500, "text/plain", "metrics failed\n")
        )
      }
      send(404, "text/plain", "not found: /healthz, /readyz, /metrics\n")
    })
    yield* Effect.acquireRelease(
      Effect.callback<void, Error>((resume) => {
        server.once("error", (error) => resume(Effect.fail(error)))
        server.listen(options.port, options.host, () => resume(Effect.void))
      }),
      () =>
        Effect.callback<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })
    ).pipe(Effect.orDie)
    const { port } = server.address() as AddressInfo
    const url = `http://${options.host}:${port}`
    yield* Effect.logInfo(`metrics: ${url}/metrics (${options.name})`)
    return Management.of({ url, collect: (text) => void collectors.push(text) })
  })

/** MANAGEMENT_PORT (default 0: a free port) and MANAGEMENT_HOST (default 127.0.0.1). */
export const layerConfig = (name: string, ready: Effect.Effect<boolean>) =>
  Layer.effect(
    Management,
    Effect.gen(function* () {
      const config = yield* Config.all({
        port: Config.Port("MANAGEMENT_PORT").pipe(Config.withDefault(0)),
        host: Config.String("MANAGEMENT_HOST").pipe(Config.withDefault("127.0.0.1"))
      })
      return yield* make({ name, ready, ...config })
    })
  )
