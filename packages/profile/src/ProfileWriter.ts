// The profile writer: consumer group `profile.writer` on `profile.commands`. An UpdateProfile
// becomes one PostgreSQL transaction on the customer master and the CRM (the systems of record);
// the profile document learns of it through CDC like of any other change, never from here.
//
// Once per command: a marker (Idempotency.once, in the customer's hash tag) records that the
// request was applied, so a redelivery does not write an old value over a newer one. The only
// thing written to Redis directly is the request's outcome (`lastUpdate`, kept beside the profile
// document so the document stays rebuildable from CDC; GET /v1/profile shows it), so the app can tell "applied" from "rejected" (an e-mail address another customer
// has) without waiting for anything.
import { Profile } from "@bank/contracts"
import { Actor, Database, type DatabaseError, DocumentStore, Idempotency, Keys, type Queryable } from "@bank/platform"
import type { Envelope } from "@bank/platform"
import { Effect, Layer } from "effect"
import { lastUpdateKey } from "./ProfileProjector.ts"

export const group = "profile.writer"

/** How long an applied request id is remembered: longer than any redelivery. */
const MARKER_TTL_SECONDS = 7 * 24 * 3600

const contactColumns = (changes: Profile.ProfileChanges): Array<readonly [string, unknown]> => {
  const out: Array<readonly [string, unknown]> = []
  if (changes.email !== undefined) out.push(["email", changes.email])
  if (changes.phone !== undefined) out.push(["phone", changes.phone])
  const a = changes.address
  if (a?.line1 !== undefined) out.push(["address_line1", a.line1])
  if (a?.line2 !== undefined) out.push(["address_line2", a.line2])
  if (a?.postalCode !== undefined) out.push(["postal_code", a.postalCode])
  if (a?.city !== undefined) out.push(["city", a.city])
  if (a?.country !== undefined) out.push(["country", a.country])
  return out
}

const preferenceColumns = (changes: Profile.ProfileChanges): Array<readonly [string, unknown]> => {
  const p = changes.preferences
  const out: Array<readonly [string, unknown]> = []
  if (p?.language !== undefined) out.push(["language", p.language])
  if (p?.theme !== undefined) out.push(["theme", p.theme])
  if (p?.marketing?.email !== undefined) out.push(["marketing_email", p.marketing.email])
  if (p?.marketing?.sms !== undefined) out.push(["marketing_sms", p.marketing.sms])
  if (p?.marketing?.push !== undefined) out.push(["marketing_push", p.marketing.push])
  return out
}

const update = (tx: Queryable, table: string, customerId: string, columns: ReadonlyArray<readonly [string, unknown]>, extra = "") =>
  tx.query(
    `UPDATE ${table} SET ${columns.map(([c], i) => `${c} = $${i + 2}`).join(", ")}${extra} WHERE customer_id = $1`,
    [customerId, ...columns.map(([, v]) => v)]
  )

/** Applies the changes to the customer master and the CRM in one transaction. */
export const write = (command: Profile.UpdateProfile): Effect.Effect<void, DatabaseError, Database.Database> =>
  Database.Database.use((db) => db.transaction((tx) => Effect.gen(function*() {
    const contact = contactColumns(command.changes)
    if (contact.length > 0) yield* update(tx, "customer.customers", command.customerId, contact)
    const preferences = preferenceColumns(command.changes)
    if (preferences.length > 0) {
      yield* tx.query("INSERT INTO crm.preferences (customer_id) VALUES ($1) ON CONFLICT (customer_id) DO NOTHING", [command.customerId])
      // Consent changes are dated, as the CRM's consent rule asks.
      const consent = command.changes.preferences?.marketing !== undefined ? ", consent_updated_at = now()" : ""
      yield* update(tx, "crm.preferences", command.customerId, preferences, consent)
    }
  })))

const outcome = (command: Profile.UpdateProfile, status: "applied" | "rejected", reason?: string) =>
  DocumentStore.DocumentStore.use((store) =>
    store.set(lastUpdateKey(command.customerId), "$", {
      requestId: command.requestId,
      status,
      ...(reason ? { reason } : {}),
      at: new Date().toISOString()
    })
  )

export const handle = (message: Envelope.Delivered<Profile.ProfileCommand>) => {
  const command = message.payload
  const marker = Keys.once(Keys.customer(command.customerId).tag, group, command.requestId)
  return write(command).pipe(
    Effect.andThen(outcome(command, "applied")),
    Effect.catchTag("DatabaseError", (error): Effect.Effect<void, DatabaseError | DocumentStore.DocumentStoreError, DocumentStore.DocumentStore> =>
      // A rule of the systems of record said no (class 23: the e-mail address is taken, the
      // customer is gone) or the value cannot be stored at all (class 22: data exception, e.g.
      // a NUL character): retrying cannot help, so it is recorded as the request's outcome, never
      // left to the dead-letter stream where nobody would tell the customer.
      error.reason === "Constraint" || error.code?.startsWith("22") === true
        ? outcome(command, "rejected", error.constraint === "customers_email_key" ? "email-taken" : "invalid").pipe(
          Effect.andThen(Effect.logWarning("profile update rejected by the systems of record", { requestId: command.requestId, constraint: error.constraint, code: error.code }))
        )
        : Effect.fail(error)),
    Idempotency.once({ marker, ttlSeconds: MARKER_TTL_SECONDS }),
    Effect.asVoid
  )
}

export const run = Actor.run({ group, stream: Profile.commands, handle, concurrency: 16 })

export const layer = Layer.effectDiscard(run)
