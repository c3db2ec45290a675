// Brute-force protection for logins, in Redis so every identity process sees the same counts.
// Subjects are keyed fingerprints (Secrets.fingerprint), never the typed username or address:
//   identity:throttle:{<fp>}:rate      attempts in the current fixed window (per username, and
//                                      per client address under the address's fingerprint)
//   identity:throttle:{<fp>}:failures  consecutive failed logins on a username; forgotten after
//                                      the failure window, reset by a successful login
//   identity:throttle:{<fp>}:lock      present while the username is locked out
// Unknown usernames are counted and locked exactly like known ones, so neither the answers nor
// their timing reveal which usernames exist. Unlock: the lock expires, or an operator runs
// scripts/unlock.ts (see `unlock`).
import * as IdentityKeys from "./IdentityKeys.ts"
import { Effect } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as Scripts from "./Scripts.ts"

export type Verdict =
  | { readonly _tag: "Allowed" }
  | { readonly _tag: "RateLimited"; readonly scope: "username" | "address"; readonly retryAfterMs: number }
  | { readonly _tag: "LockedOut"; readonly retryAfterMs: number }

export interface Limits {
  readonly usernameRateLimit: number
  readonly addressRateLimit: number
  readonly rateWindowMs: number
}

const allowed: Verdict = { _tag: "Allowed" }

/**
 * Counts this attempt against the address and the username and says whether it may proceed.
 * A locked username answers LockedOut with the lock's remaining time.
 */
export const admit = Effect.fn("LoginThrottle.admit")(function* (
  usernameFp: string,
  addressFp: string,
  limits: Limits
) {
  const redis = yield* Redis
  const [addressAttempts, addressTtl] = yield* redis.eval(Scripts.throttleHit)(
    IdentityKeys.loginThrottle(addressFp, "rate"),
    limits.rateWindowMs
  )
  if (addressAttempts > limits.addressRateLimit) {
    return { _tag: "RateLimited", scope: "address", retryAfterMs: addressTtl } satisfies Verdict as Verdict
  }
  const lockTtl = yield* redis.send<number>("PTTL", IdentityKeys.loginThrottle(usernameFp, "lock"))
  if (lockTtl > 0) return { _tag: "LockedOut", retryAfterMs: lockTtl } satisfies Verdict as Verdict
  const [userAttempts, userTtl] = yield* redis.eval(Scripts.throttleHit)(
    IdentityKeys.loginThrottle(usernameFp, "rate"),
    limits.rateWindowMs
  )
  if (userAttempts > limits.usernameRateLimit) {
    return { _tag: "RateLimited", scope: "username", retryAfterMs: userTtl } satisfies Verdict as Verdict
  }
  return allowed
})

export interface Lockout {
  readonly threshold: number
  readonly failureWindowMs: number
  readonly durationMs: number
}

/** Records a failed login; says how many in a row and whether this one locked the username. */
export const recordFailure = Effect.fn("LoginThrottle.recordFailure")(function* (usernameFp: string, lockout: Lockout) {
  const redis = yield* Redis
  const [failures, locked] = yield* redis.eval(Scripts.throttleFailure)(
    IdentityKeys.loginThrottle(usernameFp, "failures"),
    IdentityKeys.loginThrottle(usernameFp, "lock"),
    lockout.failureWindowMs,
    lockout.threshold,
    lockout.durationMs
  )
  return { failures, locked: locked === 1 }
})

/** A successful login clears the run of failures. */
export const recordSuccess = Effect.fn("LoginThrottle.recordSuccess")(function* (usernameFp: string) {
  const redis = yield* Redis
  yield* redis.send("DEL", IdentityKeys.loginThrottle(usernameFp, "failures"))
})

/** Lifts a lockout and the username's rate window at once; true when the username was locked. */
export const unlock = Effect.fn("LoginThrottle.unlock")(function* (usernameFp: string) {
  const redis = yield* Redis
  const removed = yield* redis.send<number>("DEL", IdentityKeys.loginThrottle(usernameFp, "lock"))
  yield* redis.send(
    "DEL",
    IdentityKeys.loginThrottle(usernameFp, "failures"),
    IdentityKeys.loginThrottle(usernameFp, "rate")
  )
  return removed > 0
})

/** Whole seconds to wait, at least 1 (the Retry-After header's unit). */
export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000))
