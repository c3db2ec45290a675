// The dashboard's errors; Problems.ts maps each tag to its HTTP problem.
import { Schema } from "effect"

/** A Last-Event-ID that is not a stream entry id Redis accepts (two unsigned 64-bit numbers). */
export class InvalidLastEventId extends Schema.TaggedError<InvalidLastEventId>()("InvalidLastEventId", {}) {}
