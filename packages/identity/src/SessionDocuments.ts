// The session documents GET /v1/session serves, through a client-side cache the server keeps
// honest (platform CachedDocuments.ts, CLIENT TRACKING): a hot session costs no round trip and no
// Effect run, and the moment the session projector writes it (activity, preferences) or the
// identity actor deletes it (logout, revocation, expiry), Redis tells this process to drop it.
// Activity is coalesced per session and action (activityCoalesceMs), so a session read again and
// again mostly stays cached.
//
// Never older than what this process knows was written: the edge writes no session document,
// and a read with a Consistency-Token reads Redis and `forget`s the document afterwards.
//
// Only with the lua backend; with RedisJSON, or with SESSION_DOCUMENT_CACHE=false, every read
// goes to Redis as before.
import { CachedDocuments } from "@bank/platform"
import { Context, Layer } from "effect"

export class SessionDocuments extends Context.Service<SessionDocuments, CachedDocuments.CachedDocuments>()(
  "@bank/identity/SessionDocuments"
) {}

/** SESSION_DOCUMENT_CACHE (default true); 100,000 sessions at most. */
export const layerConfig = CachedDocuments.layerConfig(SessionDocuments, "SESSION_DOCUMENT_CACHE", 100_000)

/** For tests: on or off. */
export const layer = (options: { readonly cache: boolean }) =>
  Layer.effect(SessionDocuments, CachedDocuments.make({ cache: options.cache, maxEntries: 100_000 }))
