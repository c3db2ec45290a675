// Ending all of a customer's sessions, for whoever decides it: the customer ("log out
// everywhere"), the customer master through CDC (disabled, locked, deleted, credentials
// changed), the bank's staff (admin API). Tokens go first (SessionStore.end), each ended session
// is audited with the reason on `identity.audit` and announced on `session.events`, and the live
// streams bound to the tokens are told the reason (the tokens' tombstones).
import { Identity } from "@bank/contracts"
import type { Envelope } from "@bank/platform"
import { StreamLog } from "@bank/platform"
import { Effect } from "effect"
import * as Audit from "./Audit.ts"
import * as SessionStore from "./SessionStore.ts"

type Cause = Pick<Envelope.Envelope, "id" | "correlationId" | "trace">

/** Audits and announces that one session ended. */
export const announce = Effect.fn("Revocation.announce")(function* (
  customerId: string,
  sessionId: string,
  reason: Identity.SessionEndReason,
  extra: { readonly bySessionId?: string; readonly clientAddress?: string; readonly byCustomerId?: string } = {},
  causedBy?: Cause
) {
  const log = yield* StreamLog.StreamLog
  yield* Audit.record({ _tag: "SessionRevoked", customerId, sessionId, reason, ...extra }, causedBy)
  yield* log.publish(Identity.sessionEvents, {
    key: customerId,
    payload: { _tag: "SessionEnded", customerId, sessionId, reason },
    causedBy
  })
})

/** Ends one session; false when there was none. */
export const endOne = Effect.fn("Revocation.endOne")(function* (
  customerId: string,
  sessionId: string,
  reason: Identity.SessionEndReason,
  extra: { readonly bySessionId?: string; readonly clientAddress?: string; readonly byCustomerId?: string } = {},
  causedBy?: Cause
) {
  const ended = yield* SessionStore.end(customerId, sessionId, SessionStore.reasonText(reason))
  if (ended) yield* announce(customerId, sessionId, reason, extra, causedBy)
  return ended
})

/** Ends every session of the customer; the ids it ended. */
export const endAll = Effect.fn("Revocation.endAll")(function* (
  customerId: string,
  reason: Identity.SessionEndReason,
  extra: { readonly bySessionId?: string; readonly clientAddress?: string; readonly byCustomerId?: string } = {},
  causedBy?: Cause
) {
  const ended = yield* SessionStore.endAll(customerId, SessionStore.reasonText(reason))
  for (const sessionId of ended) yield* announce(customerId, sessionId, reason, extra, causedBy)
  return ended
})
