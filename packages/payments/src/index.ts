// @bank/payments owns moving money at the customer's request: `POST /v1/transfers` (the edge
// validates the request and puts a BookTransfer command on `payments.commands`), the payments
// actor that decides and books each transfer in PostgreSQL exactly once per idempotency key
// (payments.transfers plus a debit and a credit in the deposits ledger, in one database
// transaction), and `GET /v1/transfers/{id}` from the status documents the actor writes.
// Writes go to the system of record only; the booked entries reach every read model through CDC.
import { DocumentStore } from "@bank/platform"
import { Layer } from "effect"
import * as PaymentsActor from "./PaymentsActor.ts"

export * from "./Errors.ts"
export { paymentsOperations } from "./Api.ts"
export { problems, type ProblemTag } from "./Problems.ts"
export { paymentsRoutes, type Services as RouteServices } from "./Routes.ts"
export { PaymentsActor }
export * as TransferBooking from "./TransferBooking.ts"
export * as TransferRequest from "./TransferRequest.ts"
export * as TransferStatus from "./TransferStatus.ts"

/** The payments process: the actor, given Redis and Database. */
export const actorLayer = PaymentsActor.layer().pipe(Layer.provide(DocumentStore.layer))
export * as Errors from "./Errors.ts"
