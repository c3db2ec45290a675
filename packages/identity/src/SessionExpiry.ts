// Sessions end by themselves (idle timeout, absolute lifetime) without anyone asking, so nothing
// would say so: this sweeper, run by every identity process, finds sessions past their deadline
// and ends them like any other end (tokens first, audited, `SessionEnded` with reason
// `Expired` on session.events, live streams told "session-expired").
//
// `identity:session-expiry` (global sorted set: "<customer id> <session id>" -> deadline, epoch
// ms) is written at login; activity slides a session's own deadline (in its customer's index)
// without touching it, so the sweeper re-reads the real deadline and moves the entry on when
// the session is still alive. Several identity processes sweep at once: ZREM decides which one
// ends a session. A session found expired at a login of the same customer (openSession.lua)
// is announced by the login.
import { Keys } from "@bank/platform"
import { Effect, Layer } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as Revocation from "./Revocation.ts"
import * as SessionStore from "./SessionStore.ts"

export const key = Keys.global("identity:session-expiry")

/** Sessions looked at per sweep. */
const BATCH = 200

const member = (customerId: string, sessionId: string) => `${customerId} ${sessionId}`

/** Registers a new session's deadline with the sweeper. */
export const track = Effect.fn("SessionExpiry.track")(function* (
  customerId: string,
  sessionId: string,
  deadline: number
) {
  const redis = yield* Redis
  yield* redis.send("ZADD", key, String(deadline), member(customerId, sessionId))
})

/** One sweep: ends the sessions past their deadline at `now`; how many it ended. */
export const sweep = Effect.fn("SessionExpiry.sweep")(function* (now: number) {
  const redis = yield* Redis
  const due = yield* redis.send<ReadonlyArray<string>>(
    "ZRANGE",
    key,
    "-inf",
    String(now),
    "BYSCORE",
    "LIMIT",
    "0",
    String(BATCH)
  )
  let ended = 0
  for (const entry of due) {
    const [customerId, sessionId] = entry.split(" ") as [string, string]
    const score = yield* redis.send<string | null>("ZSCORE", SessionStore.keys(customerId).index, sessionId)
    if (score !== null && Number(score) > now) {
      yield* redis.send("ZADD", key, "XX", score, entry)
      continue
    }
    if ((yield* redis.send<number>("ZREM", key, entry)) !== 1) continue
    if (yield* Revocation.endOne(customerId, sessionId, "Expired")) ended++
  }
  return ended
})

/** Sweeps every `intervalMs` while the layer lives. */
export const layer = (intervalMs = 500) =>
  Layer.effectDiscard(
    Effect.forkScoped(
      Effect.suspend(() => sweep(Date.now())).pipe(
        Effect.catchCause((cause) => Effect.logWarning("session expiry sweep failed; retrying", cause)),
        Effect.andThen(Effect.sleep(intervalMs)),
        Effect.forever
      )
    )
  )
