// Lifts a login lockout before it expires: `npx tsx scripts/unlock.ts <username> [--by <who>]`.
// A username is locked for IDENTITY_LOCKOUT_DURATION after IDENTITY_LOCKOUT_THRESHOLD failed
// logins in a row; waiting is the other way out. This clears the lock, the run of failures and
// the username's rate window, and records `LockoutCleared` (with --by, default $USER) on
// `identity.audit`. Needs the REDIS_URL and IDENTITY_TRANSPORT_KEY of the identity processes:
// throttle keys are keyed fingerprints of the username. Exit code 0 when the username was
// locked, 1 when it was not (nothing to do), 2 on a usage error.
import * as Identity from "@bank/identity"
import { CommandLine, RedisClient, StreamLog } from "@bank/platform"
import { Audit } from "@bank/identity"
import { Effect, Layer, Logger } from "effect"

const { values, positionals: usernames } = CommandLine.parse({
  name: "npx tsx scripts/unlock.ts",
  summary: "Lift a login lockout before it expires, and record who did it on identity.audit.",
  usage: "<username> [--by <who>]",
  options: { by: { type: "string", value: "who", description: "who lifts it, for the audit trail (default $USER)" } },
  positionals: { min: 1, max: 1 },
  details:
    "Needs the REDIS_URL and IDENTITY_TRANSPORT_KEY of the identity processes.\nExit code 0 when the username was locked, 1 when it was not, 2 on a usage error."
})
const by = values.by ?? process.env.USER ?? "operator"
if (by.trim() === "") CommandLine.usageError("unlock", "--by needs a name")

const program = Effect.gen(function* () {
  const config = yield* Identity.IdentityConfig.IdentityConfig
  const username = Identity.Secrets.normaliseUsername(usernames[0]!)
  const usernameFingerprint = Identity.Secrets.fingerprint(config.keys, "username", username)
  const wasLocked = yield* Identity.LoginThrottle.unlock(usernameFingerprint)
  yield* Audit.record({ _tag: "LockoutCleared", usernameFingerprint, by: by.slice(0, 128) })
  console.log(wasLocked ? `${username}: unlocked` : `${username}: was not locked (failures and rate window cleared)`)
  return wasLocked
})

const locked = await Effect.runPromise(
  program.pipe(
    Effect.provide(
      Layer.mergeAll(Identity.IdentityConfig.layerConfig, StreamLog.layer).pipe(
        Layer.provideMerge(RedisClient.layerConfig)
      )
    ),
    Effect.provide(Logger.layer([]))
  )
)
process.exit(locked ? 0 : 1)
