// Logging for every process: JSON lines in production (LOG_FORMAT=json, the default when
// not on a terminal) so log shippers can index them, pretty output on a developer's terminal;
// LOG_LEVEL filters (default Info; any case). Spans come from `Effect.fn` / `Effect.withSpan` names, and
// stream envelopes carry W3C trace context (Trace.ts) between processes.
import { Config, Effect, Layer, Logger, LogLevel, References, Schema, SchemaTransformation } from "effect"

/** LOG_LEVEL in any case (`debug`, `DEBUG`, `Debug`); anything else is a configuration error naming the levels. */
const LogLevelAnyCase = Schema.String.pipe(
  Schema.decodeTo(
    Schema.Literals(LogLevel.values),
    SchemaTransformation.transform({
      // Unknown text passes through unchanged, for the literals to reject with the list.
      decode: (text: string) =>
        (LogLevel.values.find((level) => level.toLowerCase() === text.trim().toLowerCase()) ??
          text) as LogLevel.LogLevel,
      encode: (level: string) => level
    })
  )
)

export const layerConfig = Layer.unwrap(
  Effect.gen(function* () {
    const format = yield* Config.Literals(["json", "pretty"], "LOG_FORMAT").pipe(
      Config.withDefault(process.stdout.isTTY ? ("pretty" as const) : ("json" as const))
    )
    const level = yield* Config.schema(LogLevelAnyCase, "LOG_LEVEL").pipe(Config.withDefault("Info" as const))
    return Layer.mergeAll(
      Logger.layer([format === "json" ? Logger.consoleJson : Logger.consolePretty()]),
      Layer.succeed(References.MinimumLogLevel, level)
    )
  })
)
