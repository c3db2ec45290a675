// Logging for every process: JSON lines in production (LOG_FORMAT=json, the default when
// not on a terminal) so log shippers can index them, pretty output on a developer's terminal;
// LOG_LEVEL filters (default Info). Spans come from `Effect.fn` / `Effect.withSpan` names, and
// stream envelopes carry W3C trace context (Trace.ts) between processes.
import { Config, Effect, Layer, Logger, References } from "effect"

export const layerConfig = Layer.unwrap(
  Effect.gen(function*() {
    const format = yield* Config.Literals(["json", "pretty"], "LOG_FORMAT").pipe(
      Config.withDefault(process.stdout.isTTY ? "pretty" as const : "json" as const)
    )
    const level = yield* Config.LogLevel("LOG_LEVEL").pipe(Config.withDefault("Info" as const))
    return Layer.mergeAll(
      Logger.layer([format === "json" ? Logger.consoleJson : Logger.consolePretty()]),
      Layer.succeed(References.MinimumLogLevel, level)
    )
  })
)
