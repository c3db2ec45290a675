// The prefetch failures a client sees; Problems.ts maps each tag to its status.
import { Schema } from "effect"

/** No such account among the customer's own (404): another customer's reads the same. */
export class AccountNotFound extends Schema.TaggedError<AccountNotFound>()("AccountNotFound", {
  accountId: Schema.String
}) {}

/** A query parameter of a paged read is not usable (400): a cursor from elsewhere, a bad limit. */
export class InvalidPageQuery extends Schema.TaggedError<InvalidPageQuery>()("InvalidPageQuery", {
  parameter: Schema.Literals(["cursor", "limit"]),
  detail: Schema.String
}) {}
