// The prefetch capability's settings, read once through `Config` (the variables are in
// .env.example under "# prefetch"). Durations take Effect's forms: "1 hour", "5 minutes".
import { Config, Context, Duration, Effect, Layer } from "effect"

export interface Settings {
  /** How many days of each account's transactions a login prefetches. */
  readonly windowDays: number
  /** At most this many of the newest entries per account (bounds memory for busy accounts). */
  readonly maxEntries: number
  /** How long prefetched transactions stay in Redis after the login that loaded them. */
  readonly ttlMs: number
  /** A login event older than this when it is read is skipped: its session is likely over. */
  readonly loginMaxAgeMs: number
}

export class PrefetchConfig extends Context.Service<PrefetchConfig, Settings>()("@bank/prefetch/PrefetchConfig") {}

export const defaults: Settings = {
  windowDays: 90,
  maxEntries: 2000,
  ttlMs: 60 * 60_000,
  loginMaxAgeMs: 10 * 60_000
}

export const layer = (overrides: Partial<Settings> = {}) => Layer.succeed(PrefetchConfig, { ...defaults, ...overrides })

const ms = (name: string, fallback: number) =>
  Config.Duration(name).pipe(Config.map(Duration.toMillis), Config.withDefault(fallback))

export const layerConfig = Layer.effect(
  PrefetchConfig,
  Effect.gen(function* () {
    const settings = yield* Config.all({
      windowDays: Config.Int("PREFETCH_WINDOW_DAYS").pipe(Config.withDefault(defaults.windowDays)),
      maxEntries: Config.Int("PREFETCH_MAX_ENTRIES").pipe(Config.withDefault(defaults.maxEntries)),
      ttlMs: ms("PREFETCH_TTL", defaults.ttlMs),
      loginMaxAgeMs: ms("PREFETCH_LOGIN_MAX_AGE", defaults.loginMaxAgeMs)
    })
    if (settings.windowDays < 1 || settings.maxEntries < 1 || settings.ttlMs < 1000) {
      return yield* Effect.die(
        new Error("PREFETCH_WINDOW_DAYS and PREFETCH_MAX_ENTRIES must be positive, PREFETCH_TTL at least a second")
      )
    }
    return PrefetchConfig.of(settings)
  })
)
