// The profile writer: consumer group `profile.writer` on `profile.commands`. An UpdateProfile
// becomes one PostgreSQL transaction on the customer master and the CRM (the systems of record);
// the profile document learns of it through CDC like of any other change, never from here.
//
// Once per command: a marker (Idempotency.once, in the customer's hash tag) records that the
// request was applied, so a redelivery does not write an old value over a newer one. The only
// thing written to Redis directly is the request's outcome (`lastUpdate`, kept beside the profile
// document so the document stays rebuildable from CDC; GET /v1/profile shows it), so the app can
// tell "applied" from "rejected" without waiting for anything.
//
// A new e-mail address is never written straight away: whether another customer has it must not
// show (issue #13). The change records a pending verification (a hash of a one-time code, beside
// the document) and puts the code on the mail outbox for the new address; its outcome is
// `pending-verification` whoever has the address. ConfirmEmail with the right code writes it; a
// wrong, expired or used-up code and an address that turns out to be taken all answer the same
// `rejected` / `verification-failed`, so only whoever reads that mailbox could tell them apart.
import { Profile } from "@bank/contracts"
import {
  Actor,
  Database,
  type DatabaseError,
  DocumentStore,
  Idempotency,
  Keys,
  type Queryable,
  StreamLog
} from "@bank/platform"
import type { Envelope } from "@bank/platform"
import { Effect, Layer, Option } from "effect"
import { createHash, randomInt, timingSafeEqual } from "node:crypto"
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

const update = (
  tx: Queryable,
  table: string,
  customerId: string,
  columns: ReadonlyArray<readonly [string, unknown]>,
  extra = ""
) =>
  tx.query(
    `UPDATE ${table} SET ${columns.map(([c], i) => `${c} = $${i + 2}`).join(", ")}${extra} WHERE customer_id = $1`,
    [customerId, ...columns.map(([, v]) => v)]
  )

/** How long an e-mail verification code is good for, and how many wrong codes end it. */
const VERIFICATION_TTL_MS = 15 * 60_000
const VERIFICATION_ATTEMPTS = 5

/** Where a customer's pending e-mail verification is kept (beside the profile document). */
export const emailVerificationKey = (customerId: string): string =>
  Keys.customer(customerId).key("profile-email-verification")

interface PendingEmail {
  readonly requestId: string
  readonly email: string
  readonly codeHash: string
  readonly expiresAt: number
  readonly attempts: number
}

const hashCode = (customerId: string, requestId: string, code: string): string =>
  createHash("sha256").update(`${customerId}\u0000${requestId}\u0000${code}`).digest("hex")

/** Applies the changes to the customer master and the CRM in one transaction (never the e-mail address: see above). */
export const write = (command: Profile.UpdateProfile): Effect.Effect<void, DatabaseError, Database.Database> =>
  Database.Database.use((db) =>
    db.transaction((tx) =>
      Effect.gen(function* () {
        const { email: _email, ...changes } = command.changes
        const contact = contactColumns(changes)
        if (contact.length > 0) yield* update(tx, "customer.customers", command.customerId, contact)
        const preferences = preferenceColumns(command.changes)
        if (preferences.length > 0) {
          yield* tx.query(
            "INSERT INTO crm.preferences (customer_id) VALUES ($1) ON CONFLICT (customer_id) DO NOTHING",
            [command.customerId]
          )
          // Consent changes are dated, as the CRM's consent rule asks.
          const consent = command.changes.preferences?.marketing !== undefined ? ", consent_updated_at = now()" : ""
          yield* update(tx, "crm.preferences", command.customerId, preferences, consent)
        }
      })
    )
  )

const outcome = (
  command: Profile.ProfileCommand,
  status: "applied" | "rejected" | "pending-verification",
  reason?: string
) =>
  DocumentStore.DocumentStore.use((store) =>
    store.set(lastUpdateKey(command.customerId), "$", {
      requestId: command.requestId,
      status,
      ...(reason ? { reason } : {}),
      at: new Date().toISOString()
    })
  )

/** Records the pending address and puts its code on the outbox: the same steps whoever has the address. */
const requestVerification = (command: Profile.UpdateProfile, email: string) =>
  Effect.gen(function* () {
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0")
    const pending: PendingEmail = {
      requestId: command.requestId,
      email,
      codeHash: hashCode(command.customerId, command.requestId, code),
      expiresAt: Date.now() + VERIFICATION_TTL_MS,
      attempts: 0
    }
    yield* DocumentStore.DocumentStore.use((store) =>
      store.set(emailVerificationKey(command.customerId), "$", { ...pending })
    )
    yield* StreamLog.StreamLog.use((log) =>
      log.publish(Profile.emailOutbox, {
        key: command.customerId,
        payload: {
          _tag: "EmailVerificationRequested",
          customerId: command.customerId,
          requestId: command.requestId,
          email,
          code
        }
      })
    )
  })

/** Rejections of the systems of record that retrying cannot help (see below). */
const rejectedBySystemsOfRecord = (error: DatabaseError) =>
  error.reason === "Constraint" || error.code?.startsWith("22") === true

const applyUpdate = (command: Profile.UpdateProfile) =>
  write(command).pipe(
    Effect.andThen(
      command.changes.email === undefined
        ? outcome(command, "applied")
        : requestVerification(command, command.changes.email).pipe(
            Effect.andThen(outcome(command, "pending-verification"))
          )
    ),
    Effect.catchTag(
      "DatabaseError",
      (error): Effect.Effect<void, DatabaseError | DocumentStore.DocumentStoreError, DocumentStore.DocumentStore> =>
        // A rule of the systems of record said no (class 23: the customer is gone) or the value
        // cannot be stored at all (class 22: data exception, e.g. a NUL character): retrying cannot
        // help, so it is recorded as the request's outcome, never left to the dead-letter stream
        // where nobody would tell the customer.
        rejectedBySystemsOfRecord(error)
          ? outcome(command, "rejected", "invalid").pipe(
              Effect.andThen(
                Effect.logWarning("profile update rejected by the systems of record", {
                  requestId: command.requestId,
                  constraint: error.constraint,
                  code: error.code
                })
              )
            )
          : Effect.fail(error)
    )
  )

/** The code checked against the pending verification; the address written only when it matches. */
const confirm = (command: Profile.ConfirmEmail) =>
  Effect.gen(function* () {
    const store = yield* DocumentStore.DocumentStore
    const key = emailVerificationKey(command.customerId)
    const failed = outcome(command, "rejected", "verification-failed")
    const raw = yield* store.getRaw(key)
    if (Option.isNone(raw)) return yield* failed
    const pending = JSON.parse(raw.value) as PendingEmail
    if (pending.expiresAt < Date.now() || pending.attempts >= VERIFICATION_ATTEMPTS) {
      yield* store.delete(key)
      return yield* failed
    }
    const expected = Buffer.from(pending.codeHash, "hex")
    const given = Buffer.from(hashCode(command.customerId, pending.requestId, command.code), "hex")
    if (!timingSafeEqual(expected, given)) {
      yield* store.set(key, "$.attempts", pending.attempts + 1)
      return yield* failed
    }
    // One code, one use, whatever happens next.
    yield* store.delete(key)
    yield* Database.Database.use((db) =>
      update(db, "customer.customers", command.customerId, [["email", pending.email]])
    ).pipe(
      Effect.andThen(outcome(command, "applied")),
      // The address is taken (or became so): the same answer as a wrong code.
      Effect.catchTag(
        "DatabaseError",
        (error): Effect.Effect<void, DatabaseError | DocumentStore.DocumentStoreError, DocumentStore.DocumentStore> =>
          rejectedBySystemsOfRecord(error) ? failed : Effect.fail(error)
      )
    )
  })

export const handle = (message: Envelope.Delivered<Profile.ProfileCommand>) => {
  const command = message.payload
  const marker = Keys.once(Keys.customer(command.customerId).tag, group, command.requestId)
  return (command._tag === "ConfirmEmail" ? confirm(command) : applyUpdate(command)).pipe(
    Idempotency.once({ marker, ttlSeconds: MARKER_TTL_SECONDS }),
    Effect.asVoid
  )
}

export const run = Actor.run({ group, stream: Profile.commands, handle, concurrency: 16 })

export const layer = Layer.effectDiscard(run)
