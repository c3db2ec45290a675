// Lifts a login lockout before it expires: `npx tsx scripts/unlock.ts <username> [--by <who>]`.
// A username is locked for IDENTITY_LOCKOUT_DURATION after IDENTITY_LOCKOUT_THRESHOLD failed
// logins in a row; waiting is the other way out. This clears the lock, the run of failures and
// the username's rate window, and records `LockoutCleared` (with --by, default $USER) on
// `identity.audit`. Needs the REDIS_URL and IDENTITY_TRANSPORT_KEY of the identity processes:
// throttle keys are keyed fingerprints of the username. Exit code 0 when the username was
// locked, 1 when it was not (nothing to do), 2 on a usage error.
import * as Identity from "@bank/identity"
import { RedisClient, StreamLog } from "@bank/platform"
import { Audit } from "@bank/identity"
import { Effect, Layer, Logger } from "effect"

const args = process.argv.slice(2)
const byAt = args.indexOf("--by")
const by = byAt >= 0 ? args[byAt + 1] : process.env.USER ?? "operator"
const usernames = args.filter((_, i) => i !== byAt && i !== byAt + 1)
if (usernames.length !== 1 || !by) {
  console.error("usage: npx tsx scripts/unlock.ts <username> [--by <who>]")
  process.exit(2)
}

const program = Effect.gen(function*() {
  const config = yield* Identity.IdentityConfig.IdentityConfig
  const username = Identity.Secrets.normaliseUsername(usernames[0]!)
  const usernameFingerprint = Identity.Secrets.fingerprint(config.keys, "username", username)
  const wasLocked = yield* Identity.LoginThrottle.unlock(usernameFingerprint)
  yield* Audit.record({ _tag: "LockoutCleared", usernameFingerprint, by: by.slice(0, 128) })
  console.log(wasLocked ? `${username}: unlocked` : `${username}: was not locked (failures and rate window cleared)`)
  return wasLocked
})

const locked = await Effect.runPromise(program.pipe(
  Effect.provide(Layer.mergeAll(Identity.IdentityConfig.layerConfig, StreamLog.layer).pipe(Layer.provideMerge(RedisClient.layerConfig))),
  Effect.provide(Logger.layer([]))
))
process.exit(locked ? 0 : 1)
