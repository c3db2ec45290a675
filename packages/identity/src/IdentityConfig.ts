// Every setting of the identity capability, read once through `Config` (the variables are in
// .env.example under "# identity"). Durations take Effect's forms: "15 minutes", "30 seconds",
// "500 millis". Tests build one with `make` and short lifetimes.
import { Config, Context, Duration, Effect, Layer, Redacted } from "effect"
import * as Secrets from "./Secrets.ts"

export type SessionCapPolicy = "evict-oldest" | "refuse"

export interface Settings {
  /** Access token lifetime (never longer than the session's idle timeout). */
  readonly accessTokenTtlMs: number
  /** Refresh token lifetime (never longer than the session's absolute lifetime). */
  readonly refreshTokenTtlMs: number
  /**
   * A session unused this long ends (sliding: every request moves it on). This is for sessions
   * that can move money (every customer's): PSD2 RTS art. 4(3)(d) allows at most 5 minutes.
   */
  readonly sessionIdleTimeoutMs: number
  /** The same for the bank's staff (the `admin` role, which moves no money). */
  readonly adminSessionIdleTimeoutMs: number
  /** A session ends this long after login, however active. */
  readonly sessionMaxLifetimeMs: number
  /** Concurrent sessions per customer, and what a login beyond them does. */
  readonly maxSessions: number
  readonly sessionCapPolicy: SessionCapPolicy
  /** Entries kept in a session's `recentActions`. */
  readonly recentActions: number
  /** The same action in one session within this window is recorded once. */
  readonly activityCoalesceMs: number
  /** Login attempts per username, and per client address, in each window. */
  readonly usernameRateLimit: number
  readonly addressRateLimit: number
  readonly rateWindowMs: number
  /** Consecutive failures on a username (within the window) that lock it, and for how long. */
  readonly lockoutThreshold: number
  readonly lockoutFailureWindowMs: number
  readonly lockoutDurationMs: number
  /** scrypt cost N of the dummy hash verified for unknown usernames: that of the real hashes. */
  readonly dummyHashCost: number
  /** How long the edge waits for the identity actor. */
  readonly requestTimeoutMs: number
  /** Requests one identity process handles at once (scrypt runs on libuv's thread pool). */
  readonly concurrency: number
  /** Proxies in front of the edge whose X-Forwarded-For we trust (0: use the socket address). */
  readonly trustedProxyHops: number
  /** Live streams (Server-Sent Events) one session may hold open; a new one closes the oldest. */
  readonly maxStreamsPerSession: number
  /** How often the edge checks that each live stream's token and session still stand. */
  readonly streamCheckIntervalMs: number
  /** RESP3 client-side caching of token records, invalidated by the server (TrackedHashes; default on: no round trip for a hot token, revocation still immediate). */
  readonly tokenCache: boolean
  /** Seals passwords on the request stream and keys the username fingerprints. */
  readonly keys: Secrets.Keys
}

export class IdentityConfig extends Context.Service<IdentityConfig, Settings>()("@bank/identity/IdentityConfig") {}

const minutes = (n: number) => n * 60_000

export const defaults: Omit<Settings, "keys"> = {
  accessTokenTtlMs: minutes(15),
  refreshTokenTtlMs: minutes(12 * 60),
  sessionIdleTimeoutMs: minutes(5),
  adminSessionIdleTimeoutMs: minutes(15),
  sessionMaxLifetimeMs: minutes(12 * 60),
  maxSessions: 5,
  sessionCapPolicy: "evict-oldest",
  recentActions: 20,
  activityCoalesceMs: 10_000,
  usernameRateLimit: 10,
  addressRateLimit: 100,
  rateWindowMs: minutes(1),
  lockoutThreshold: 5,
  lockoutFailureWindowMs: minutes(15),
  lockoutDurationMs: minutes(15),
  dummyHashCost: 16384,
  requestTimeoutMs: 15_000,
  concurrency: 16,
  trustedProxyHops: 0,
  maxStreamsPerSession: 3,
  streamCheckIntervalMs: 250,
  tokenCache: true
}

/** The idle timeout of a session of a customer with `roles` (its kind: staff or money-moving). */
export const idleTimeoutFor = (
  settings: Pick<Settings, "sessionIdleTimeoutMs" | "adminSessionIdleTimeoutMs">,
  roles: ReadonlyArray<string>
): number => (roles.includes("admin") ? settings.adminSessionIdleTimeoutMs : settings.sessionIdleTimeoutMs)

/** Settings for tests and benchmarks: the defaults, `overrides`, and the given or a random key. */
export const make = (overrides: Partial<Settings> = {}): Settings => ({
  ...defaults,
  keys: Secrets.deriveKeys(Secrets.randomKey()),
  ...overrides
})

export const layer = (settings: Settings) => Layer.succeed(IdentityConfig, settings)

const ms = (name: string, fallback: number) =>
  Config.Duration(name).pipe(Config.map(Duration.toMillis), Config.withDefault(fallback))
const int = (name: string, fallback: number) => Config.Int(name).pipe(Config.withDefault(fallback))

export const layerConfig = Layer.effect(
  IdentityConfig,
  Effect.gen(function* () {
    const d = defaults
    const settings = yield* Config.all({
      accessTokenTtlMs: ms("IDENTITY_ACCESS_TOKEN_TTL", d.accessTokenTtlMs),
      refreshTokenTtlMs: ms("IDENTITY_REFRESH_TOKEN_TTL", d.refreshTokenTtlMs),
      sessionIdleTimeoutMs: ms("IDENTITY_SESSION_IDLE_TIMEOUT", d.sessionIdleTimeoutMs),
      adminSessionIdleTimeoutMs: ms("IDENTITY_ADMIN_SESSION_IDLE_TIMEOUT", d.adminSessionIdleTimeoutMs),
      sessionMaxLifetimeMs: ms("IDENTITY_SESSION_MAX_LIFETIME", d.sessionMaxLifetimeMs),
      maxSessions: int("IDENTITY_MAX_SESSIONS", d.maxSessions),
      sessionCapPolicy: Config.Literals(["evict-oldest", "refuse"], "IDENTITY_SESSION_CAP_POLICY").pipe(
        Config.withDefault(d.sessionCapPolicy)
      ),
      recentActions: int("IDENTITY_SESSION_RECENT_ACTIONS", d.recentActions),
      activityCoalesceMs: ms("IDENTITY_ACTIVITY_COALESCE", d.activityCoalesceMs),
      usernameRateLimit: int("IDENTITY_LOGIN_USERNAME_LIMIT", d.usernameRateLimit),
      addressRateLimit: int("IDENTITY_LOGIN_ADDRESS_LIMIT", d.addressRateLimit),
      rateWindowMs: ms("IDENTITY_LOGIN_RATE_WINDOW", d.rateWindowMs),
      lockoutThreshold: int("IDENTITY_LOCKOUT_THRESHOLD", d.lockoutThreshold),
      lockoutFailureWindowMs: ms("IDENTITY_LOCKOUT_FAILURE_WINDOW", d.lockoutFailureWindowMs),
      lockoutDurationMs: ms("IDENTITY_LOCKOUT_DURATION", d.lockoutDurationMs),
      dummyHashCost: int("IDENTITY_DUMMY_HASH_COST", d.dummyHashCost),
      requestTimeoutMs: ms("IDENTITY_REQUEST_TIMEOUT", d.requestTimeoutMs),
      concurrency: int("IDENTITY_CONCURRENCY", d.concurrency),
      trustedProxyHops: int("IDENTITY_TRUSTED_PROXY_HOPS", d.trustedProxyHops),
      maxStreamsPerSession: int("IDENTITY_MAX_STREAMS_PER_SESSION", d.maxStreamsPerSession),
      streamCheckIntervalMs: ms("IDENTITY_STREAM_CHECK_INTERVAL", d.streamCheckIntervalMs),
      tokenCache: Config.Boolean("IDENTITY_TOKEN_CACHE").pipe(Config.withDefault(d.tokenCache)),
      transportKey: Config.option(Config.Redacted("IDENTITY_TRANSPORT_KEY"))
    })
    const { transportKey, ...rest } = settings
    if (transportKey._tag === "None") {
      yield* Effect.logWarning(
        "IDENTITY_TRANSPORT_KEY is not set: using the published development key. Passwords on the " +
          "request stream are then as good as clear text; set a random 32-byte key (base64) in production."
      )
    }
    const key =
      transportKey._tag === "Some" ? Secrets.parseKey(Redacted.value(transportKey.value)) : Secrets.developmentKey
    if (key === undefined) return yield* Effect.die(new Error("IDENTITY_TRANSPORT_KEY must be 32 bytes in base64"))
    return IdentityConfig.of({ ...rest, keys: Secrets.deriveKeys(key) })
  })
)
