// Profile: what the edge asks of the profile capability. `PATCH /v1/profile` becomes an
// `UpdateProfile` command on `profile.commands`; the profile writer applies it to the systems of
// record (customer master, CRM) in one database transaction, and the change comes back to the
// profile document through CDC like any other. The field rules are the systems of record's
// own (their CHECK constraints), so a command that passes them is one PostgreSQL accepts.
import { Schema } from "effect"
import { StreamSpec } from "@bank/platform"

const Id = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(128))
// No control characters: PostgreSQL cannot store NUL in text, and none belongs in an address.
const Text = (min: number, max: number) =>
  Schema.String.check(
    Schema.isMinLength(min),
    Schema.isMaxLength(max),
    Schema.isPattern(/^[^\p{Cc}]*$/u, { message: "must not contain control characters" })
  )

export const Email = Schema.String.check(Schema.isMaxLength(254), Schema.isPattern(/^[^@\s]+@[^@\s]+\.[^@\s]+$/))
/** E.164: a plus, a country code and at most 15 digits in all. */
export const Phone = Schema.String.check(Schema.isPattern(/^\+[1-9][0-9]{6,14}$/))

export const AddressChanges = Schema.Struct({
  line1: Schema.optionalKey(Text(1, 200)),
  line2: Schema.optionalKey(Schema.NullOr(Text(1, 200))),
  postalCode: Schema.optionalKey(Text(1, 20)),
  city: Schema.optionalKey(Text(1, 100)),
  /** ISO 3166-1 alpha-2. */
  country: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[A-Z]{2}$/)))
})

export const PreferenceChanges = Schema.Struct({
  /** BCP 47 language, optionally with a region: `en`, `de-AT`. */
  language: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[a-z]{2}(-[A-Z]{2})?$/))),
  theme: Schema.optionalKey(Schema.Literals(["light", "dark", "system"])),
  /** Marketing consent per channel (opt-in). */
  marketing: Schema.optionalKey(
    Schema.Struct({
      email: Schema.optionalKey(Schema.Boolean),
      sms: Schema.optionalKey(Schema.Boolean),
      push: Schema.optionalKey(Schema.Boolean)
    })
  )
})

/** What a customer may change about themselves: contact data and preferences. */
export const ProfileChanges = Schema.Struct({
  email: Schema.optionalKey(Email),
  /** null removes the phone number. */
  phone: Schema.optionalKey(Schema.NullOr(Phone)),
  address: Schema.optionalKey(AddressChanges),
  preferences: Schema.optionalKey(PreferenceChanges)
})
export type ProfileChanges = typeof ProfileChanges.Type

export const UpdateProfile = Schema.TaggedStruct("UpdateProfile", {
  customerId: Id,
  /** The edge's id for this change; the writer applies each one once. */
  requestId: Id,
  changes: ProfileChanges,
  requestedAt: Schema.String
})
export type UpdateProfile = typeof UpdateProfile.Type

/**
 * The code the customer got at the new e-mail address, confirming they own it. The address
 * changes only then; until then the change is `pending-verification`, whoever has the address.
 */
export const ConfirmEmail = Schema.TaggedStruct("ConfirmEmail", {
  customerId: Id,
  requestId: Id,
  code: Schema.String.check(Schema.isPattern(/^[0-9]{6}$/)),
  requestedAt: Schema.String
})
export type ConfirmEmail = typeof ConfirmEmail.Type

export const ProfileCommand = Schema.Union([UpdateProfile, ConfirmEmail])
export type ProfileCommand = typeof ProfileCommand.Type

export const commands = StreamSpec.define({
  name: "profile.commands",
  schema: ProfileCommand,
  retention: { maxLen: 100_000 }
})

/**
 * The demo's mail outbox: one entry per e-mail verification code to deliver to `email`. A real
 * deployment's mailer consumes it; the code reaches only whoever reads that mailbox. An address
 * another customer has gets its message like any other (the customer asking cannot tell).
 */
export const EmailVerificationRequested = Schema.TaggedStruct("EmailVerificationRequested", {
  customerId: Id,
  requestId: Id,
  email: Email,
  code: Schema.String
})
export type EmailVerificationRequested = typeof EmailVerificationRequested.Type

export const emailOutbox = StreamSpec.define({
  name: "profile.email-outbox",
  schema: EmailVerificationRequested,
  retention: { maxLen: 100_000 }
})
