// How every process of the system runs: `packages/<x>/src/main.ts` hands its layer to `launch`,
// which answers --help (CommandLine.ts), provides what the process asks for (the Redis
// connection, the PostgreSQL pool), logging from LOG_FORMAT / LOG_LEVEL (Telemetry.ts), the
// management endpoint with /healthz, /readyz and /metrics (Management.ts), OTLP traces when
// OTEL_EXPORTER_OTLP_ENDPOINT is set (Tracing.ts), and runs it until
// SIGTERM or SIGINT, when the layer's scope closes: the process's own layers first, then the
// connections they used.
// Configuration is read by those layers from the environment (see .env.example). The list of
// processes is processes.json at the root.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Schedule } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as CommandLine from "./CommandLine.ts"
import * as Database from "./Database.ts"
import * as Management from "./Management.ts"
import * as RedisClient from "./RedisClient.ts"
import * as Telemetry from "./Telemetry.ts"
import * as Tracing from "./Tracing.ts"

/** A server a process needs: Redis (REDIS_URL) or PostgreSQL (DATABASE_URL). */
export type Need = "redis" | "postgres"

/** The services `launch` provides for each need. */
export type Provided<N extends Need> =
  | (N extends "redis" ? Redis | RedisClient.RedisTopology : never)
  | (N extends "postgres" ? Database.Database : never)

export interface Options<N extends Need> {
  /** The process's name in processes.json, logged when it has started. */
  readonly name: string
  readonly needs: ReadonlyArray<N>
  /**
   * Instead of exiting when it cannot start (a server not up yet), log and try again with
   * backoff (250 ms doubling, at most every 30 seconds).
   */
  readonly retryStart?: boolean
  /** Added to the "started" log line. */
  readonly annotations?: Readonly<Record<string, unknown>>
  /** One line on what the process does, for --help. */
  readonly summary?: string
}

/** Ready once the process's layer has started and, when it uses Redis, Redis answers. */
const readiness = (started: () => boolean, needs: ReadonlyArray<Need>) =>
  Effect.gen(function* () {
    if (!started()) return false
    if (!needs.includes("redis")) return true
    const redis = yield* Effect.serviceOption(Redis)
    if (redis._tag === "None") return true
    return yield* redis.value.send("PING").pipe(
      Effect.as(true),
      Effect.orElseSucceed(() => false)
    )
  })

const servicesFor = (needs: ReadonlyArray<Need>): Layer.Layer<any, any> => {
  const layers: Array<Layer.Layer<any, any>> = []
  if (needs.includes("redis")) layers.push(RedisClient.layerConfig)
  if (needs.includes("postgres")) layers.push(Database.layerConfig)
  return layers.reduce((all, layer) => Layer.merge(all, layer), Layer.empty as unknown as Layer.Layer<any, any>)
}

/** Runs `layer` as this process until it is told to stop. */
export const launch = <N extends Need, ROut, E, R extends Provided<N> | Management.Management>(
  options: Options<N>,
  layer: Layer.Layer<ROut, E, R>
): void => {
  CommandLine.parse({
    name: `node --import tsx packages/${options.name}/src/main.ts`,
    summary:
      options.summary ?? `The ${options.name} process of the system (processes.json); runs until SIGTERM or SIGINT.`,
    details:
      "Configuration comes from the environment (see .env.example); MANAGEMENT_PORT / MANAGEMENT_HOST place /healthz, /readyz and /metrics."
  })
  let isStarted = false
  const started = Effect.logInfo(`${options.name} started`).pipe(
    Effect.annotateLogs(options.annotations ?? {}),
    Effect.andThen(
      Effect.sync(() => {
        isStarted = true
      })
    )
  )
  const management = Management.layerConfig(
    options.name,
    readiness(() => isStarted, options.needs)
  )
  const program = layer.pipe(
    Layer.tap(() => started),
    Layer.provideMerge(management),
    Layer.provide(servicesFor(options.needs) as Layer.Layer<Exclude<R, Management.Management>, unknown>),
    Layer.launch
  )
  const retried =
    options.retryStart === true
      ? program.pipe(
          Effect.tapError((error) => Effect.logWarning(`${options.name} could not start; retrying`, error)),
          Effect.retry({ schedule: Schedule.min([Schedule.exponential("250 millis"), Schedule.spaced("30 seconds")]) })
        )
      : program
  retried.pipe(
    Effect.provide(Layer.merge(Telemetry.layerConfig, Tracing.layerConfig(options.name))),
    NodeRuntime.runMain
  )
}
