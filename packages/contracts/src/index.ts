// @bank/contracts: the Schemas of every message on a stream, the API between actors: CDC entries
// (Cdc.ts), identity's requests, replies and events (Identity.ts), payments' commands (Payments.ts)
// and profile's (Profile.ts).
export * as Cdc from "./Cdc.ts"
export * as Identity from "./Identity.ts"
export * as Payments from "./Payments.ts"
export * as Profile from "./Profile.ts"
export { type Principal } from "./Identity.ts"
export { type RejectionReason } from "./Payments.ts"
export { lsnToBigInt } from "./Cdc.ts"
