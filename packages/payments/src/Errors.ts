// The payments failures a client sees; Problems.ts maps each tag to its status.
// A transfer the actor rejects is not an error: it is a decision, shown as its status.
import { Schema } from "effect"

/** The Idempotency-Key header is missing or not 1-128 visible ASCII characters (400). */
export class InvalidIdempotencyKey extends Schema.TaggedError<InvalidIdempotencyKey>()("InvalidIdempotencyKey", {
  reason: Schema.Literals(["Missing", "Malformed"])
}) {}

/** The Idempotency-Key was used before with a different request body (422). */
export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>()("IdempotencyKeyReused", {
  transferId: Schema.String
}) {}

/** No such transfer among the customer's own (404). */
export class TransferNotFound extends Schema.TaggedError<TransferNotFound>()("TransferNotFound", {
  transferId: Schema.String
}) {}
