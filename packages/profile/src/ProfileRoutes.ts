// The profile HTTP API (behind the edge's token check; the customer is always the caller):
//   GET   /v1/profile                        → 200 the caller's profile document, as stored
//   GET   /v1/profile?fields=email,address   → 200 only those fields, each read at its path
//                                              (400 naming any field a profile does not have)
//   PATCH /v1/profile {email?, phone?, address?, preferences?}
//                                            → 202 {requestId}: an UpdateProfile command on
//                                              `profile.commands`; the profile shows the change
//                                              once it is in the systems of record and back
//                                              through CDC, and `lastUpdate` tells the outcome;
//                                              its Consistency-Token makes GET /v1/profile wait
//                                              until the document shows the change (bounded).
//                                              A new e-mail address is not applied: the outcome
//                                              is `pending-verification` and a code goes to that
//                                              address (whoever has it: nothing tells whether
//                                              another customer does)
//   POST  /v1/profile/email/confirm {code}   → 202 {requestId}: the code from that message; the
//                                              address is written when it matches, otherwise
//                                              `lastUpdate` says `verification-failed` (also
//                                              when the address turns out to be taken)
import type { Principal } from "@bank/contracts"
import { Profile as ProfileContract } from "@bank/contracts"
import type { Routes } from "@bank/http"
import type { ProblemTag } from "./Problems.ts"
import { ConsistencyToken, decodeBody, InvalidBody, plainResponse, principalOf, StepUp } from "@bank/http"
import { DocumentStore, ReadModel, StreamLog, uuidv7 } from "@bank/platform"
import { Effect, Option, Schema } from "effect"
import type { Context } from "hono"
import { ProfileNotFound, UnknownProfileField } from "./Errors.ts"
import { fields as allowedFields } from "./Profile.ts"
import * as ProfileDocuments from "./ProfileDocuments.ts"
import { lastUpdateKey, readModel } from "./ProfileProjector.ts"

export type Services =
  | DocumentStore.DocumentStore
  | StreamLog.StreamLog
  | StepUp.StepUpPolicy
  | ReadModel.ReadModel
  | ProfileDocuments.ProfileDocuments

const callerOf = (c: Context<any>): Effect.Effect<Principal> => Effect.sync(() => principalOf(c))

const allowed: ReadonlySet<string> = new Set(allowedFields)

const json = { "Content-Type": "application/json", "Cache-Control": "private, no-store" }

/** The body of POST /v1/profile/email/confirm: the six digits sent to the new address. */
export const EmailConfirmation = Schema.Struct({ code: ProfileContract.ConfirmEmail.fields.code })

/** A profile change's read-your-writes claim: its request and the values it sets. */
const ProfileClaim = Schema.Struct({ k: Schema.Literal("profile"), requestId: Schema.String, changes: Schema.Unknown })

// Every value the change sets is in the document (text compared without case: the systems of
// record may normalise an e-mail address).
const shows = (document: unknown, changes: unknown): boolean => {
  if (changes !== null && typeof changes === "object") {
    return (
      document !== null &&
      typeof document === "object" &&
      Object.entries(changes).every(([k, v]) => shows((document as Record<string, unknown>)[k], v))
    )
  }
  return typeof changes === "string" && typeof document === "string"
    ? changes.toLowerCase() === document.toLowerCase()
    : changes === document
}

/** Some(()) once the profile shows the change a Consistency-Token names, or says it was rejected. */
const showsChange = (
  store: DocumentStore.DocumentStore["Service"],
  key: string,
  outcomeKey: string,
  claim: ConsistencyToken.Claim
) =>
  Effect.gen(function* () {
    const { requestId, changes } = yield* ConsistencyToken.fields(claim, ProfileClaim)
    const [raw, outcome] = yield* Effect.all([store.getRaw(key), store.getRaw(outcomeKey)], {
      concurrency: "unbounded"
    })
    const lastUpdate = Option.isSome(outcome)
      ? (JSON.parse(outcome.value) as { requestId?: string; status?: string })
      : undefined
    if (lastUpdate?.requestId === requestId && lastUpdate.status === "rejected") return Option.some<void>(undefined)
    if (Option.isNone(raw)) return Option.none<void>()
    const document = JSON.parse(raw.value) as Record<string, unknown>
    const rejected = false
    return rejected || shows(document, changes) ? Option.some<void>(undefined) : Option.none<void>()
  })

export const makeProfileRoutes =
  (options: { readonly consistencyWaitMs?: number } = {}): Routes<Services, ProblemTag> =>
  (app, run) => {
    let documents: ProfileDocuments.ProfileDocuments["Service"] | undefined
    let readModels: ReadModel.ReadModel["Service"] | undefined
    app.get("/v1/profile", (c) => {
      // A cached profile is sent without an Effect run (no I/O, nothing to fail; no span, so
      // only while tracing is off: Run.ts). A read with a Consistency-Token reads Redis itself.
      if (!run.traced && c.req.header(ConsistencyToken.header) === undefined && c.req.query("fields") === undefined) {
        documents ??= run.service(ProfileDocuments.ProfileDocuments)
        readModels ??= run.service(ReadModel.ReadModel)
        const text = ProfileDocuments.peek(documents, readModels, principalOf(c).customerId)
        if (text !== undefined) return plainResponse(text, json)
      }
      return run(
        c,
        Effect.gen(function* () {
          const { customerId } = yield* callerOf(c)
          const store = yield* DocumentStore.DocumentStore
          // The generation readers use (a rebuild switches it); the request outcome lives beside it.
          const key = yield* (yield* ReadModel.ReadModel).documentKey(readModel, customerId)
          const outcome = lastUpdateKey(customerId)
          if (c.req.header(ConsistencyToken.header) !== undefined) {
            const claim = yield* ConsistencyToken.fromRequest(c)
            if (Option.isSome(claim) && claim.value.k === "profile") {
              yield* ConsistencyToken.waitFor(c, showsChange(store, key, outcome, claim.value), {
                timeoutMs: options.consistencyWaitMs
              })
            }
            // A read with the token reads Redis itself; and when it waited, Redis has shown this
            // process the change, so what the cache holds may be older: dropped either way.
            yield* ProfileDocuments.forget(customerId)
          }
          const asked = c.req.query("fields")
          if (asked === undefined) {
            // The stored text as it is, with `lastUpdate` added at its end when there is one.
            const body = yield* ProfileDocuments.text(customerId)
            if (Option.isNone(body)) return yield* new ProfileNotFound()
            return plainResponse(body.value, json)
          }
          const names = [
            ...new Set(
              asked
                .split(",")
                .map((f) => f.trim())
                .filter((f) => f !== "")
            )
          ]
          const unknown = names.filter((f) => !allowed.has(f))
          if (unknown.length > 0 || names.length === 0) {
            return yield* new UnknownProfileField({
              fields: names.length === 0 ? [asked] : unknown,
              allowed: [...allowedFields]
            })
          }
          // Each field read at its path; the texts are put together as they are stored.
          const values = yield* Effect.forEach(
            names,
            (name) => (name === "lastUpdate" ? store.getRaw(outcome) : store.getRaw(key, `$.${name}`)),
            { concurrency: "unbounded" }
          )
          if (values.every(Option.isNone) && Option.isNone(yield* store.getRaw(key, "$.customerId")))
            return yield* new ProfileNotFound()
          const body = `{${names.map((name, i) => `${JSON.stringify(name)}:${Option.getOrElse(values[i]!, () => "null")}`).join(",")}}`
          return c.body(body, 200, json)
        })
      )
    })

    app.patch("/v1/profile", (c) =>
      run(
        c,
        Effect.gen(function* () {
          const principal = yield* callerOf(c)
          const { customerId } = principal
          const changes = yield* decodeBody(c, ProfileContract.ProfileChanges)
          if (Object.keys(changes).length === 0) {
            return yield* new InvalidBody({
              errors: [{ path: "", message: "Send at least one of email, phone, address, preferences" }]
            })
          }
          // How the bank reaches the customer (and resets access) changes only after a recent authentication.
          if (changes.email !== undefined || changes.phone !== undefined)
            yield* StepUp.requireRecent(principal, "contact-change")
          const requestId = uuidv7()
          const log = yield* StreamLog.StreamLog
          yield* log.publish(ProfileContract.commands, {
            key: customerId,
            payload: { _tag: "UpdateProfile", customerId, requestId, changes, requestedAt: new Date().toISOString() }
          })
          // The claim waits for what the change writes now: a new e-mail address waits for its code.
          const { email: _pending, ...shown } = changes
          c.header(ConsistencyToken.header, ConsistencyToken.encode({ k: "profile", requestId, changes: shown }))
          return c.json({ requestId, status: "accepted" }, 202)
        })
      )
    )

    app.post("/v1/profile/email/confirm", (c) =>
      run(
        c,
        Effect.gen(function* () {
          const principal = yield* callerOf(c)
          const { customerId } = principal
          const { code } = yield* decodeBody(c, EmailConfirmation)
          yield* StepUp.requireRecent(principal, "contact-change")
          const requestId = uuidv7()
          const log = yield* StreamLog.StreamLog
          yield* log.publish(ProfileContract.commands, {
            key: customerId,
            payload: { _tag: "ConfirmEmail", customerId, requestId, code, requestedAt: new Date().toISOString() }
          })
          c.header(ConsistencyToken.header, ConsistencyToken.encode({ k: "profile", requestId, changes: {} }))
          return c.json({ requestId, status: "accepted" }, 202)
        })
      )
    )
  }

export const profileRoutes: Routes<Services, ProblemTag> = makeProfileRoutes()
