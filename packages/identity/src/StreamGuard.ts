// Identity's side of the HTTP kit's LiveSessions: every live stream (Server-Sent Events) of this
// edge process is bound to the session and the access token that opened it, and ends within
// IDENTITY_STREAM_CHECK_INTERVAL (default 250 ms) of the token ending for any reason:
// - logout, revocation, log out everywhere, eviction, a refresh (which replaces the token), the
//   bank ending the account: the token's record becomes a tombstone naming the reason
//   (TokenStore.revoke), which is what the client is told;
// - token expiry (the record's `x`) and session expiry (the session ends, its token with it).
// One check per interval for all streams of the process: an HMGET of each stream's token
// record and a ZSCORE of its place among its session's streams, pipelined on the shared
// connection (two commands per stream and interval, whatever happens).
//
// Per session at most IDENTITY_MAX_STREAMS_PER_SESSION streams (default 3) across every edge
// process: a new stream beyond it closes the oldest ("superseded"); a reconnecting app never
// finds itself locked out by its own dead connections.
import type { Principal } from "@bank/contracts"
import { LiveSessions, type LiveStream } from "@bank/http"
import { Keys, uuidv7 } from "@bank/platform"
import * as IdentityKeys from "./IdentityKeys.ts"
import { Effect, Layer } from "effect"
import { Redis } from "effect/persistence/Redis"
import { IdentityConfig } from "./IdentityConfig.ts"
import * as Scripts from "./Scripts.ts"
import * as Secrets from "./Secrets.ts"
import { bearerToken } from "./TokenCheck.ts"
import * as TokenStore from "./TokenStore.ts"

interface Watched {
  readonly id: string
  readonly tokenKey: string
  readonly streamsKey: string
  /** The token's expiry as last read (a refresh of the record may move it). */
  expiresAt: number
  readonly settle: (reason: string) => void
}

/** The set of one session's live streams (in the customer's hash tag). */
export const streamsKey = (customerId: string, sessionId: string): string =>
  Keys.customer(customerId).key(`streams:${sessionId}`)

const ended = (reason: string): LiveStream => ({ ended: Promise.resolve(reason), release: () => {} })

export const make = Effect.gen(function* () {
  const config = yield* IdentityConfig
  const redis = yield* Redis
  const context = yield* Effect.context<Redis>()
  const runFork = Effect.runForkWith(context)
  const watched = new Map<string, Watched>()

  const checkOne = (w: Watched, now: number) =>
    Effect.gen(function* () {
      if (now >= w.expiresAt) return w.settle("token-expired")
      const [fields, score] = yield* Effect.all(
        [
          redis.send<ReadonlyArray<string | null>>("HMGET", w.tokenKey, "c", "x", "e"),
          redis.send<string | null>("ZSCORE", w.streamsKey, w.id)
        ],
        { concurrency: 2 }
      )
      const state = TokenStore.stateOf(fields, now)
      if (state._tag === "Ended") return w.settle(state.reason)
      // Gone without a tombstone: it expired (Redis deleted it at its expiry) or the data is lost.
      if (state._tag === "Gone")
        return w.settle(now >= w.expiresAt - 2 * config.streamCheckIntervalMs ? "token-expired" : "session-ended")
      if (score === null) return w.settle("superseded")
      w.expiresAt = state.expiresAt
    })

  const checkAll = Effect.suspend(() => {
    const now = Date.now()
    return Effect.forEach([...watched.values()], (w) => checkOne(w, now), { concurrency: "unbounded", discard: true })
  })
  yield* Effect.forkScoped(
    checkAll.pipe(
      Effect.catchCause((cause) => Effect.logWarning("live stream check failed; retrying", cause)),
      Effect.andThen(Effect.sleep(config.streamCheckIntervalMs)),
      Effect.forever
    )
  )

  const watch = (principal: Principal, authorization: string | undefined) =>
    Effect.gen(function* () {
      const token = bearerToken(authorization)
      if (token === undefined) return ended("session-ended")
      const tokenKey = IdentityKeys.accessToken(Secrets.hashToken(token))
      const now = Date.now()
      const state = TokenStore.stateOf(
        yield* redis.send<ReadonlyArray<string | null>>("HMGET", tokenKey, "c", "x", "e"),
        now
      )
      if (state._tag === "Ended") return ended(state.reason)
      if (state._tag === "Gone") return ended("session-ended")
      const id = uuidv7()
      const key = streamsKey(principal.customerId, principal.sessionId)
      let settle!: (reason: string) => void
      const promise = new Promise<string>((resolve) => {
        settle = (reason) => {
          watched.delete(id)
          resolve(reason)
        }
      })
      const dropped = yield* redis.eval(Scripts.openStream)(
        key,
        id,
        now,
        config.maxStreamsPerSession,
        config.sessionMaxLifetimeMs
      )
      // Watched only once it is among the session's streams: a check between the two would find
      // no place for it and end it as "superseded" (seen on a cluster, where the script's first
      // call on a master can take a NOSCRIPT round trip).
      watched.set(id, { id, tokenKey, streamsKey: key, expiresAt: state.expiresAt, settle })
      for (const other of dropped) watched.get(other)?.settle("superseded")
      let released = false
      return {
        ended: promise,
        release: () => {
          if (released) return
          released = true
          watched.delete(id)
          runFork(redis.send("ZREM", key, id).pipe(Effect.ignore))
        }
      } satisfies LiveStream
    })

  return LiveSessions.of({ watch })
})

export const layer: Layer.Layer<LiveSessions, never, IdentityConfig | Redis> = Layer.effect(LiveSessions, make)
