// The session projector: applies `session.events` to session documents (consumer group
// `identity.sessions`, one customer's events in order).
// - SessionActivityRecorded: moves lastSeenAt, appends to recentActions (the newest N kept) and
//   slides the session's idle expiry;
// - SessionPreferencesChanged: merges the preferences (and counts as activity);
// - SessionRecommendationsUpdated: replaces the recommendations.
// An event for a session that has ended changes nothing: the slide step (touchSession.lua)
// says so and deletes any leftovers. Each write is guarded by the customer's applied-message
// marker, so the redelivery of the last applied event is a no-op; a crash in mid-batch can at
// worst repeat an entry in recentActions, which is informational.
//
// It is a Projection value (`projection`, platform Projection.ts) that is not rebuildable: the
// session documents are the system of record for sessions (login writes them), and this stream
// only moves their activity, so `scripts/rebuild.ts sessions` and `replay` refuse it and say why.
import { Identity } from "@bank/contracts"
import { Actor, DocumentStore, Keys } from "@bank/platform"
import type { Envelope, Projection, Readiness } from "@bank/platform"
import { Effect, Layer, type Scope } from "effect"
import { Redis } from "effect/persistence/Redis"
import * as Credentials from "./Credentials.ts"
import { IdentityConfig, idleTimeoutFor } from "./IdentityConfig.ts"
import * as SessionStore from "./SessionStore.ts"

export const group = "identity.sessions"

/** How long the applied-message marker is kept (a day: well past any redelivery). */
const MARKER_TTL_SECONDS = 24 * 3600

/** What a session document is projected from: an event, and how many recent actions a document keeps. */
export interface Change {
  readonly event: Identity.SessionEvent
  readonly recentActions: number
}

/** The document operations an event stands for; undefined when it does not touch the document. Pure. */
export const opsOf = ({ event, recentActions }: Change): ReadonlyArray<DocumentStore.Op> | undefined => {
  switch (event._tag) {
    case "SessionActivityRecorded":
      return [
        DocumentStore.Op.set("$.lastSeenAt", event.at),
        DocumentStore.Op.append(
          "$.recentActions",
          [{ action: event.action, status: event.status, at: event.at }],
          recentActions
        )
      ]
    case "SessionPreferencesChanged":
      return [DocumentStore.Op.merge("$.preferences", event.preferences as DocumentStore.Json)]
    case "SessionRecommendationsUpdated":
      return [DocumentStore.Op.set("$.recommendations", event.recommendations as unknown as DocumentStore.Json)]
    default:
      return undefined
  }
}

/** The idle timeout of the customer's sessions: their kind follows the customer's roles. */
const idleFor = (customerId: string) =>
  Effect.gen(function* () {
    const config = yield* IdentityConfig
    if (config.adminSessionIdleTimeoutMs === config.sessionIdleTimeoutMs) return config.sessionIdleTimeoutMs
    const redis = yield* Redis
    const roles = yield* redis.send<string | null>(
      "HGET",
      Credentials.recordKey(customerId, yield* Credentials.currentGeneration),
      "roles"
    )
    return idleTimeoutFor(config, Credentials.parseRoles(roles ?? undefined))
  })

export const handle = Effect.fn("SessionProjector.handle")(function* (
  message: Envelope.Delivered<Identity.SessionEvent>
) {
  const config = yield* IdentityConfig
  const ops = opsOf({ event: message.payload, recentActions: config.recentActions })
  if (ops === undefined || !("sessionId" in message.payload)) return
  const { customerId, sessionId } = message.payload
  const redis = yield* Redis
  const store = yield* DocumentStore.DocumentStore
  const now = Date.now()
  const slides = message.payload._tag !== "SessionRecommendationsUpdated"
  const deadline = slides
    ? yield* SessionStore.touch(customerId, sessionId, now, yield* idleFor(customerId))
    : (yield* SessionStore.isLive(customerId, sessionId, now))
      ? -1
      : 0
  if (deadline === 0) return
  const key = SessionStore.keys(customerId).document(sessionId)
  yield* store.apply(key, ops, {
    once: { markerKey: Keys.customer(customerId).applied(group), id: message.id, ttlSeconds: MARKER_TTL_SECONDS }
  })
  // Bounds a document the write above revived if the session ended in between.
  if (deadline > 0) yield* redis.send("PEXPIREAT", key, String(deadline))
  else if ((yield* redis.send<number>("PTTL", key)) === -1) yield* redis.send("DEL", key)
})

const actor = Actor.run({ group, stream: Identity.sessionEvents, handle, concurrency: 16 })

export type Services = Exclude<Effect.Services<typeof actor>, Scope.Scope>

export const projection: Projection.NotRebuildable<Change, Services> = {
  rebuild: "none",
  why: "the session documents are the system of record for sessions (login writes them); session.events only moves their activity, so no stream holds what they hold",
  name: "sessions",
  sources: [Identity.sessionEvents.name],
  group: () => group,
  guard: "once",
  documents: "a document per session, {c:<customer>}:doc:session:<id> (SessionStore.ts), expiring with it",
  opsOf,
  run: () => actor
}

/** The projector as an actor in the current scope. */
export const run = projection.run()

export const layer = Layer.effectDiscard(run)

/** For readiness: sessions are written at login; this group keeps their activity current. */
export const readModel: Readiness.ReadModelSource = {
  name: projection.name,
  groups: Effect.succeed([{ stream: Identity.sessionEvents.name, group }]),
  fedByCdc: false
}
