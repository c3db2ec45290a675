// The payments routes as the OpenAPI document describes them: the same Schemas the routes
// decode the request with (TransferRequest.Body) and encode the answer from (TransferView).
import { consistencyTokenResponse, type Operation, operation } from "@bank/http"
import { Schema } from "effect"
import * as TransferRequest from "./TransferRequest.ts"
import { TransferView } from "./TransferStatus.ts"

const transferId = { name: "id", in: "path" as const, required: true, description: "The transfer's id (transferId)." }

export const paymentsOperations: ReadonlyArray<Operation> = [
  operation({
    method: "post",
    path: "/v1/transfers",
    operationId: "createTransfer",
    tag: "Transfers",
    summary: "Transfer money between current and savings accounts",
    description:
      "Accepted at once (202) and decided by the payments actor in the system of record. Resending the same request with the same Idempotency-Key answers the same transfer; another request under a used key is 422. A rejected transfer is not an error: its status says why.",
    parameters: [
      {
        name: "Idempotency-Key",
        in: "header",
        required: true,
        description:
          "A new unique value (e.g. a UUID) per transfer, 1-128 visible ASCII characters; the same value when resending.",
        schema: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(128))
      }
    ],
    requestBody: TransferRequest.Body,
    responses: {
      202: {
        description: "Accepted: the transfer as it stands (pending, or decided when this was a resend).",
        schema: TransferView,
        headers: { Location: { description: "The transfer's URL." }, ...consistencyTokenResponse }
      }
    },
    problems: [
      "StepUpRequired",
      "InvalidIdempotencyKey",
      "IdempotencyKeyReused",
      "InvalidBody",
      "MalformedBody",
      "UnsupportedMediaType",
      "PayloadTooLarge"
    ]
  }),
  operation({
    method: "get",
    path: "/v1/transfers/{id}",
    operationId: "getTransfer",
    tag: "Transfers",
    summary: "A transfer's status",
    parameters: [transferId],
    responses: {
      200: { description: "The transfer: pending, booked, or rejected with a reason.", schema: TransferView }
    },
    problems: ["TransferNotFound"]
  })
]
