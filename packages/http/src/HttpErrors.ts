// The failures that belong to HTTP itself rather than to any capability: a request the edge
// cannot read. Like every error, they get their status from ErrorTable.ts.
import { Schema } from "effect"

export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()("UnsupportedMediaType", {
  contentType: Schema.optional(Schema.String)
}) {}

/** The body could not be read or is not JSON. */
export class MalformedBody extends Schema.TaggedError<MalformedBody>()("MalformedBody", {
  cause: Schema.Defect()
}) {}

export const FieldError = Schema.Struct({
  /** JSON Pointer (RFC 6901) to the offending value: `/to/iban`, `/items/2`; "" is the whole body. */
  path: Schema.String,
  message: Schema.String
})
export type FieldError = typeof FieldError.Type

/** Well-formed JSON that does not match the route's schema. */
export class InvalidBody extends Schema.TaggedError<InvalidBody>()("InvalidBody", {
  errors: Schema.Array(FieldError)
}) {}

/** Query parameters or path segments that do not match the route's schema. */
export class InvalidQuery extends Schema.TaggedError<InvalidQuery>()("InvalidQuery", {
  errors: Schema.Array(FieldError)
}) {}

export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  limitBytes: Schema.Number
}) {}

export class RouteNotFound extends Schema.TaggedError<RouteNotFound>()("RouteNotFound", {
  method: Schema.String,
  path: Schema.String
}) {}

/** A Consistency-Token header that is not one the API issued. */
export class InvalidConsistencyToken extends Schema.TaggedError<InvalidConsistencyToken>()(
  "InvalidConsistencyToken",
  {}
) {}

/** The document did not reflect the write named by the Consistency-Token within the wait. */
export class NotYetConsistent extends Schema.TaggedError<NotYetConsistent>()("NotYetConsistent", {
  retryAfterSeconds: Schema.Number
}) {}

/** A key appears twice in one JSON object of the body (which one would count is anyone's guess). */
export class DuplicateKey extends Schema.TaggedError<DuplicateKey>()("DuplicateKey", {
  /** JSON Pointer of the second occurrence. */
  path: Schema.String
}) {}
