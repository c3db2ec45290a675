// Step-up before sensitive actions (PSD2 art. 97 and its RTS; OWASP ASVS 7.5): a route that
// moves money to someone else above the low-value limit, or changes how the bank reaches the
// customer (e-mail, phone), asks for a recent authentication and answers 403 problem+json
// `step-up-required` otherwise, before it publishes anything. The client then calls
// POST /v1/auth/step-up with the password and retries. The session's last authentication (login
// or step-up) is the Principal's `authenticatedAt`, from the token record.
//   STEP_UP_MAX_AGE             how recent is recent (default 5 minutes)
//   STEP_UP_TRANSFER_THRESHOLD  transfers to others above this many units of the account's
//                               currency need it (default 30.00: PSD2 RTS art. 16's limit)
import type { Principal } from "@bank/contracts"
import { Config, Context, Duration, Effect, Layer, Schema } from "effect"

/** The action needs a recent authentication the session does not have (403). */
export class StepUpRequired extends Schema.TaggedError<StepUpRequired>()("StepUpRequired", {
  /** What needed it: "transfer", "contact-change". */
  action: Schema.String,
  maxAgeSeconds: Schema.Int
}) {}

export interface Settings {
  readonly maxAgeMs: number
  /** Major units ("30.00"); compared in the transfer's currency. */
  readonly transferThreshold: string
}

export class StepUpPolicy extends Context.Service<StepUpPolicy, Settings>()("@bank/edge/StepUpPolicy") {}

export const defaults: Settings = { maxAgeMs: 5 * 60_000, transferThreshold: "30.00" }

export const layer = (settings: Partial<Settings> = {}) => Layer.succeed(StepUpPolicy, { ...defaults, ...settings })

export const layerConfig = Layer.effect(
  StepUpPolicy,
  Effect.gen(function* () {
    const settings = yield* Config.all({
      maxAgeMs: Config.Duration("STEP_UP_MAX_AGE").pipe(
        Config.map(Duration.toMillis),
        Config.withDefault(defaults.maxAgeMs)
      ),
      transferThreshold: Config.schema(
        Schema.String.check(Schema.isPattern(/^\d{1,15}(\.\d{1,4})?$/)),
        "STEP_UP_TRANSFER_THRESHOLD"
      ).pipe(Config.withDefault(defaults.transferThreshold))
    })
    return StepUpPolicy.of(settings)
  })
)

/** Whether the session authenticated within `maxAgeMs` of `now`. */
export const isRecent = (principal: Principal, maxAgeMs: number, now = Date.now()): boolean =>
  principal.authenticatedAt !== undefined && now - principal.authenticatedAt <= maxAgeMs

/** Succeeds when the session authenticated recently enough, else StepUpRequired for `action`. */
export const requireRecent = (principal: Principal, action: string) =>
  Effect.gen(function* () {
    const policy = yield* StepUpPolicy
    if (!isRecent(principal, policy.maxAgeMs)) {
      return yield* new StepUpRequired({ action, maxAgeSeconds: Math.floor(policy.maxAgeMs / 1000) })
    }
  })

/** The threshold in minor units of a currency with `exponent` decimals. */
export const thresholdMinor = (threshold: string, exponent: number): bigint => {
  const [units, fraction = ""] = threshold.split(".")
  const digits = fraction.padEnd(exponent, "0").slice(0, exponent)
  return BigInt(units!) * 10n ** BigInt(exponent) + (exponent > 0 ? BigInt(digits || "0") : 0n)
}
