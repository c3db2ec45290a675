// LOG_LEVEL is read in any case, and a level that does not exist is a configuration error
// naming the levels (not a silent default).
import { ConfigProvider, Effect, Exit, Layer, References } from "effect"
import { describe, expect, it } from "vitest"
import * as Telemetry from "./Telemetry.ts"

const levelWith = (env: Record<string, string>) =>
  Effect.runPromiseExit(
    Effect.gen(function* () {
      return yield* References.MinimumLogLevel
    }).pipe(
      Effect.provide(
        Telemetry.layerConfig.pipe(
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({ LOG_FORMAT: "json", ...env })))
        )
      )
    )
  )

describe("Telemetry LOG_LEVEL", () => {
  it("takes a level in any case", async () => {
    for (const [text, level] of [
      ["debug", "Debug"],
      ["WARN", "Warn"],
      ["Error", "Error"],
      [" trace ", "Trace"]
    ]) {
      const exit = await levelWith({ LOG_LEVEL: text! })
      expect(Exit.isSuccess(exit) ? exit.value : exit).toBe(level)
    }
  })

  it("defaults to Info and refuses an unknown level, listing the known ones", async () => {
    const fallback = await levelWith({})
    expect(Exit.isSuccess(fallback) ? fallback.value : fallback).toBe("Info")
    const bad = await levelWith({ LOG_LEVEL: "verbose" })
    expect(Exit.isFailure(bad)).toBe(true)
    expect(String(Exit.isFailure(bad) ? bad.cause : "")).toMatch(/"Debug"/)
  })
})
