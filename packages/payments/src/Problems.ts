// Payments' error tags as HTTP problems. A rejected transfer is not an error: it is its status.
// `detail` is written for the client, never the error's own message. The edge merges this table
// with the others; `run` does not accept an Effect failing with a tag missing here.
import { entry } from "@bank/http"
import type * as Errors from "./Errors.ts"

export const problems = {
  InvalidIdempotencyKey: entry<Errors.InvalidIdempotencyKey>({
    status: 400,
    title: "Invalid Idempotency-Key",
    detail: (e) =>
      e.reason === "Missing"
        ? "Send an Idempotency-Key header (a new unique value, e.g. a UUID, per transfer)."
        : "The Idempotency-Key header must be 1 to 128 visible ASCII characters."
  }),
  IdempotencyKeyReused: entry<Errors.IdempotencyKeyReused>({
    status: 422,
    title: "Idempotency-Key already used",
    detail: "This Idempotency-Key was used for a different transfer. Send a new key with a new transfer.",
    extensions: (e) => ({ transferId: e.transferId })
  }),
  TransferNotFound: entry({
    status: 404,
    title: "Transfer not found",
    detail: "There is no such transfer among yours."
  })
}

export type ProblemTag = keyof typeof problems
