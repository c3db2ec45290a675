// Sessions. Per customer, in the customer's hash tag (so each Lua step is atomic on Cluster):
//   {c:<id>}:sessions              sorted set: session id -> expiry deadline (epoch ms); the
//                                  index that lists, caps and expires sessions
//   {c:<id>}:session-state         hash: session id -> "<absolute deadline> <access> <refresh>"
//                                  (the hashes of the session's live token pair)
//   {c:<id>}:doc:session:<id>      the session document (DocumentStore), expiring with it
// Expiry slides: every recorded activity and every refresh moves the deadline to now + idle
// timeout, never past the absolute deadline. Ending a session deletes its tokens FIRST, then
// its entry and document, so a crash in between leaves a session that can no longer be used
// rather than a token that still works.
import { DocumentStore, Keys } from "@bank/platform"
import { Effect } from "effect"
import { Redis } from "effect/persistence/Redis"
import type { SessionCapPolicy } from "./IdentityConfig.ts"
import * as Scripts from "./Scripts.ts"
import * as TokenStore from "./TokenStore.ts"

export interface SessionState {
  readonly absoluteMs: number
  readonly accessHash: string
  readonly refreshHash: string
}

export const parseState = (text: string | null | undefined): SessionState | undefined => {
  const match = /^(\d+) (\S+) (\S+)$/.exec(text ?? "")
  return match ? { absoluteMs: Number(match[1]), accessHash: match[2]!, refreshHash: match[3]! } : undefined
}

export const keys = (customerId: string) => {
  const customer = Keys.customer(customerId)
  return {
    index: customer.key("sessions"),
    state: customer.key("session-state"),
    /** hash: session id -> when it last authenticated (login or step-up), epoch ms */
    auth: customer.key("session-auth"),
    document: (sessionId: string) => customer.document(`session:${sessionId}`)
  }
}

const sessionKeys = (customerId: string, sessionId: string): Scripts.SessionKeys => {
  const k = keys(customerId)
  return { index: k.index, state: k.state, document: k.document(sessionId) }
}

/** The session document as created at login; the session projector keeps it up to date. */
export interface SessionDocument {
  readonly sessionId: string
  readonly customerId: string
  readonly device: {
    readonly deviceId: string | null
    readonly userAgent: string | null
    readonly clientAddress: string
  }
  readonly createdAt: string
  readonly lastSeenAt: string
  readonly absoluteExpiresAt: string
  readonly recentActions: ReadonlyArray<{ readonly action: string; readonly status: number; readonly at: string }>
  readonly preferences: { readonly theme: string; readonly language: string }
  readonly recommendations: ReadonlyArray<unknown>
}

export interface Removed {
  readonly sessionId: string
  readonly state: SessionState | undefined
  readonly why: "expired" | "evicted"
}

const removedOf = (reply: ReadonlyArray<string>, from: number): Array<Removed> => {
  const removed: Array<Removed> = []
  for (let i = from; i + 2 < reply.length; i += 3) {
    removed.push({
      sessionId: reply[i]!,
      state: parseState(reply[i + 1]),
      why: reply[i + 2] === "evicted" ? "evicted" : "expired"
    })
  }
  return removed
}

/** A session end reason as live streams tell it: `LoggedOutEverywhere` → "logged-out-everywhere". */
export const reasonText = (reason: string): string =>
  reason === "Expired" ? "session-expired" : reason.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()

const tokensOf = (states: ReadonlyArray<SessionState | undefined>) => ({
  access: states.flatMap((s) => (s ? [s.accessHash] : [])),
  refresh: states.flatMap((s) => (s ? [s.refreshHash] : []))
})

/** Deletes what is left of sessions the index already dropped: their tokens, then documents. */
export const dispose = Effect.fn("SessionStore.dispose")(function* (
  customerId: string,
  removed: ReadonlyArray<Removed>
) {
  if (removed.length === 0) return
  const redis = yield* Redis
  for (const why of ["expired", "evicted"] as const) {
    const these = removed.filter((r) => r.why === why)
    if (these.length > 0)
      yield* TokenStore.revoke(tokensOf(these.map((r) => r.state)), why === "expired" ? "session-expired" : "evicted")
  }
  yield* Effect.forEach(removed, (r) => redis.send("DEL", keys(customerId).document(r.sessionId)), { discard: true })
})

export interface OpenOptions {
  readonly customerId: string
  readonly sessionId: string
  readonly now: number
  readonly deadline: number
  readonly absolute: number
  readonly accessHash: string
  readonly refreshHash: string
  readonly cap: number
  readonly policy: SessionCapPolicy
}

/** Registers a session within the cap; `removed` are sessions it expired or evicted (already disposed). */
export const open = Effect.fn("SessionStore.open")(function* (options: OpenOptions) {
  const redis = yield* Redis
  const k = keys(options.customerId)
  const reply = yield* redis.eval(Scripts.openSession)({ index: k.index, state: k.state }, options)
  const removed = removedOf(reply, 1)
  yield* dispose(options.customerId, removed)
  return { opened: reply[0] === "opened", removed }
})

/** Writes the new session's document, expiring with the session. */
export const writeDocument = Effect.fn("SessionStore.writeDocument")(function* (
  document: SessionDocument,
  deadline: number
) {
  const redis = yield* Redis
  const store = yield* DocumentStore.DocumentStore
  const key = keys(document.customerId).document(document.sessionId)
  yield* store.set(key, "$", document as unknown as DocumentStore.Json)
  yield* redis.send("PEXPIREAT", key, String(deadline))
})

/** Slides the session's expiry; 0 when the session has ended (its leftovers are deleted). */
export const touch = Effect.fn("SessionStore.touch")(function* (
  customerId: string,
  sessionId: string,
  now: number,
  idleMs: number
) {
  const redis = yield* Redis
  return yield* redis.eval(Scripts.touchSession)(sessionKeys(customerId, sessionId), sessionId, now, idleMs)
})

export type Rotation =
  | {
      readonly _tag: "Rotated"
      readonly previousAccessHash: string
      readonly deadline: number
      readonly absolute: number
    }
  | { readonly _tag: "Gone" }
  | { readonly _tag: "Stale" }

export const rotate = Effect.fn("SessionStore.rotate")(function* (options: {
  readonly customerId: string
  readonly sessionId: string
  readonly now: number
  readonly idleMs: number
  readonly refreshHash: string
  readonly newAccessHash: string
  readonly newRefreshHash: string
}) {
  const redis = yield* Redis
  const reply = yield* redis.eval(Scripts.rotateSession)(sessionKeys(options.customerId, options.sessionId), options)
  if (reply[0] === "rotated") {
    return {
      _tag: "Rotated",
      previousAccessHash: reply[1]!,
      deadline: Number(reply[2]),
      absolute: Number(reply[3])
    } satisfies Rotation as Rotation
  }
  return (reply[0] === "stale" ? { _tag: "Stale" } : { _tag: "Gone" }) satisfies Rotation as Rotation
})

/**
 * Ends one session: tokens first, then index entry, state and document. False if there was
 * none. `reason` (kebab case) is what a live stream bound to its token is told.
 */
export const end = Effect.fn("SessionStore.end")(function* (customerId: string, sessionId: string, reason = "revoked") {
  const redis = yield* Redis
  const k = keys(customerId)
  const before = parseState(yield* redis.send<string | null>("HGET", k.state, sessionId))
  if (before) yield* TokenStore.revoke(tokensOf([before]), reason)
  const closed = yield* redis.eval(Scripts.closeSession)(sessionKeys(customerId, sessionId), sessionId)
  // A refresh that rotated the pair in between: its new tokens go too.
  const after = parseState(closed)
  if (after && (after.accessHash !== before?.accessHash || after.refreshHash !== before?.refreshHash)) {
    yield* TokenStore.revoke(tokensOf([after]), reason)
  }
  return closed !== null || before !== undefined
})

/** Ends every session of the customer; returns the ids it ended. */
export const endAll = Effect.fn("SessionStore.endAll")(function* (customerId: string, reason = "revoked") {
  const redis = yield* Redis
  const k = keys(customerId)
  const indexed = yield* redis.send<ReadonlyArray<string>>("ZRANGE", k.index, "0", "-1")
  const stated = yield* redis.send<ReadonlyArray<string>>("HKEYS", k.state)
  const ids = [...new Set([...indexed, ...stated])]
  const ended = yield* Effect.forEach(
    ids,
    (id) => end(customerId, id, reason).pipe(Effect.map((existed) => (existed ? [id] : []))),
    {
      concurrency: 8
    }
  )
  return ended.flat()
})

/** The customer's live sessions (id and expiry deadline), oldest first. */
export const list = Effect.fn("SessionStore.list")(function* (customerId: string, now: number) {
  const redis = yield* Redis
  const reply = yield* redis.send<ReadonlyArray<string>>(
    "ZRANGE",
    keys(customerId).index,
    String(now + 1),
    "+inf",
    "BYSCORE",
    "WITHSCORES"
  )
  const live: Array<{ readonly sessionId: string; readonly deadline: number }> = []
  for (let i = 0; i + 1 < reply.length; i += 2) live.push({ sessionId: reply[i]!, deadline: Number(reply[i + 1]) })
  return live.sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1))
})

/** Whether `sessionId` is among the customer's live sessions. */
export const isLive = Effect.fn("SessionStore.isLive")(function* (customerId: string, sessionId: string, now: number) {
  const redis = yield* Redis
  const score = yield* redis.send<string | null>("ZSCORE", keys(customerId).index, sessionId)
  return score !== null && Number(score) > now
})

/** Records when the session last authenticated (login, step-up); kept as long as the session can live. */
export const setAuthenticatedAt = Effect.fn("SessionStore.setAuthenticatedAt")(function* (
  customerId: string,
  sessionId: string,
  at: number,
  absolute: number
) {
  const redis = yield* Redis
  const key = keys(customerId).auth
  yield* redis.send("HSET", key, sessionId, String(at))
  if ((yield* redis.send<number>("PEXPIRETIME", key)) < absolute) yield* redis.send("PEXPIREAT", key, String(absolute))
})

/** When the session last authenticated, if known. */
export const authenticatedAt = Effect.fn("SessionStore.authenticatedAt")(function* (
  customerId: string,
  sessionId: string
) {
  const redis = yield* Redis
  const text = yield* redis.send<string | null>("HGET", keys(customerId).auth, sessionId)
  return text === null ? undefined : Number(text)
})
