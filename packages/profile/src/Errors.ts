// The profile capability's errors; Problems.ts maps each tag to its HTTP problem.
import { Schema } from "effect"

/** No profile document for the caller yet (the projector has not seen them). */
export class ProfileNotFound extends Schema.TaggedError<ProfileNotFound>()("ProfileNotFound", {}) {}

/** `?fields=` named fields a profile does not have. */
export class UnknownProfileField extends Schema.TaggedError<UnknownProfileField>()("UnknownProfileField", {
  fields: Schema.Array(Schema.String),
  allowed: Schema.Array(Schema.String)
}) {}
