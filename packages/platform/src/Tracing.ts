// OpenTelemetry traces, exported over OTLP/HTTP (JSON) when OTEL_EXPORTER_OTLP_ENDPOINT is set
// and off otherwise (no tracer, no exporter, no HTTP client: Effect's own in-memory spans only).
// Process.launch provides it to every process. Effect's `OtlpTracer.layerFromConfig` is not
// used because it also requires OTEL_TRACES_EXPORTER=otlp and stays silent without it; here the
// endpoint alone turns export on. OTEL_BSP_SCHEDULE_DELAY (ms, default 5000) is the batch
// interval; what is left is flushed when the process stops.
//
// One trace per customer action: the HTTP kit's span (Run.ts) continues an inbound
// `traceparent`; a message published under a span carries it in its envelope (StreamLog.ts);
// the actor runs each message under a span whose parent is the envelope's (Actor.ts); the
// PostgreSQL write is a child span of that. See `parentOf` and `fromCurrentSpan` below.
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Config, Duration, Effect, Layer, Option, Tracer } from "effect"
import { OtlpExporter, OtlpSerialization, OtlpTracer } from "effect/observability"
import * as Trace from "./Trace.ts"

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/**
 * `Effect.fn(name)` for hot paths: the same span around each call, but no call-site stack
 * captured (Effect.fn makes a `new Error()` on every call, ~3.5 µs). For functions a projector
 * or the edge calls per document or per request.
 */
export const fnSpan =
  (name: string) =>
  <Args extends ReadonlyArray<any>, A, E, R>(f: (...args: Args) => Effect.Effect<A, E, R>) =>
  (...args: Args): Effect.Effect<A, E, R> =>
    Effect.withSpan(f(...args), name, { captureStackTrace: false })

/** The span a W3C traceparent names, as a parent for local spans; undefined when malformed. */
export const parentOf = (traceparent: string | undefined | null): Tracer.ExternalSpan | undefined => {
  if (!traceparent || !Trace.isValidTraceparent(traceparent)) return undefined
  const m = TRACEPARENT.exec(traceparent)!
  return Tracer.externalSpan({ traceId: m[1]!, spanId: m[2]!, sampled: (parseInt(m[3]!, 16) & 1) === 1 })
}

/** The trace context naming `span` as the parent, when its ids are W3C ones. */
export const contextOf = (span: Tracer.AnySpan): Trace.TraceContext | undefined => {
  const traceparent = `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`
  return Trace.isValidTraceparent(traceparent) ? { traceparent } : undefined
}

/** The current span's trace context, if the fiber runs under one. */
export const fromCurrentSpan: Effect.Effect<Trace.TraceContext | undefined> = Effect.currentSpan.pipe(
  Effect.map(contextOf),
  Effect.orElseSucceed(() => undefined)
)

/** The OTLP tracer of `serviceName`, exporting to `url` (the collector's /v1/traces). */
export const layer = (options: {
  readonly serviceName: string
  readonly url: string
  readonly exportIntervalMs?: number | undefined
}) =>
  OtlpTracer.layer({
    url: options.url,
    resource: { serviceName: options.serviceName },
    exportInterval: options.exportIntervalMs !== undefined ? Duration.millis(options.exportIntervalMs) : undefined,
    shutdownTimeout: "2 seconds"
  }).pipe(Layer.provide([OtlpSerialization.layerJson, NodeHttpClient.layerUndici]))

/** The OTLP tracer for the process `serviceName`, or nothing when no endpoint is configured. */
export const layerConfig = (serviceName: string): Layer.Layer<OtlpExporter.Flusher> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const endpoint = yield* Config.option(Config.URL("OTEL_EXPORTER_OTLP_ENDPOINT"))
      if (Option.isNone(endpoint)) return OtlpExporter.layerFlusher
      const delay = yield* Config.option(Config.Int("OTEL_BSP_SCHEDULE_DELAY"))
      const url = new URL(endpoint.value)
      url.pathname = `${url.pathname.replace(/\/$/, "")}/v1/traces`
      return layer({ serviceName, url: url.toString(), exportIntervalMs: Option.getOrUndefined(delay) })
    }).pipe(Effect.orDie)
  )
