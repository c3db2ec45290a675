// The dashboard's errors; the edge maps each tag to its HTTP problem (ErrorTable.ts).
import { Schema } from "effect"

/** A Last-Event-ID that is not a stream entry id Redis accepts (two unsigned 64-bit numbers). */
export class InvalidLastEventId extends Schema.TaggedError<InvalidLastEventId>()("InvalidLastEventId", {}) {}
