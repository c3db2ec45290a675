// The audit trail: every login outcome, lockout, refresh, logout and revocation goes to
// `identity.audit`, keyed by the customer when known (so one customer's events stay in order)
// or by the username fingerprint. Events carry no password and no token (see the contract).
import { Identity } from "@bank/contracts"
import { StreamLog } from "@bank/platform"
import type { Envelope } from "@bank/platform"
import { Effect } from "effect"

export const record = Effect.fn("Audit.record")(function* (
  event: Identity.AuditEvent,
  causedBy?: Pick<Envelope.Envelope, "id" | "correlationId" | "trace">
) {
  const log = yield* StreamLog.StreamLog
  const key =
    "customerId" in event && event.customerId !== undefined
      ? event.customerId
      : "usernameFingerprint" in event
        ? `u:${event.usernameFingerprint}`
        : "unknown"
  yield* log.publish(Identity.audit, { key, payload: event, causedBy })
})
