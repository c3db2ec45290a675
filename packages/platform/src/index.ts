// @bank/platform: what every capability stands on. The Redis connection on one server or a
// Redis Cluster (RedisClient; what differs between the two in RedisTopology, hash slots in Slots,
// writes that wait for a replica in Durability), the
// PostgreSQL pool (Database), key naming (Keys), the stream envelope and its contracts
// (Envelope, StreamSpec), publishing and replay (StreamLog), the consumer engine built from the
// consumer-group primitives (ConsumerGroup) in its shared mode (Actor, KeyedBatches) and its
// partition-owned mode (OwnedPartitions, Membership),
// request/reply over streams (RequestReply), effectively-once handling (Idempotency), the JSON
// document store with its two backends (DocumentStore), read-model generations for rebuilds
// without downtime (ReadModel), password hashing (PasswordHash), and logging/tracing (Telemetry, Trace).
// Capabilities talk to each other only through streams built from these pieces.
export * as Actor from "./Actor.ts"
export * as CommandLine from "./CommandLine.ts"
export * as ConsumerGroup from "./ConsumerGroup.ts"
export * as Database from "./Database.ts"
export * as DocumentStore from "./DocumentStore.ts"
export * as Envelope from "./Envelope.ts"
export * as FunctionLibrary from "./FunctionLibrary.ts"
export * as Idempotency from "./Idempotency.ts"
export * as GroupProgress from "./GroupProgress.ts"
export * as HandlerDuration from "./HandlerDuration.ts"
export * as Ids from "./Ids.ts"
export * as Keys from "./Keys.ts"
export * as Lease from "./Lease.ts"
export * as Lua from "./Lua.ts"
export * as Membership from "./Membership.ts"
export * as OwnedPartitions from "./OwnedPartitions.ts"
export * as PasswordHash from "./PasswordHash.ts"
export * as Projection from "./Projection.ts"
export * as ReadModel from "./ReadModel.ts"
export * as RedisClient from "./RedisClient.ts"
export * as CachedDocuments from "./CachedDocuments.ts"
export * as RedisTopology from "./RedisTopology.ts"
export * as Durability from "./Durability.ts"
export * as Slots from "./Slots.ts"
export * as RequestReply from "./RequestReply.ts"
export * as StreamLog from "./StreamLog.ts"
export * as StreamSpec from "./StreamSpec.ts"
export * as Telemetry from "./Telemetry.ts"
export * as Management from "./Management.ts"
export * as Process from "./Process.ts"
export * as Trace from "./Trace.ts"
export * as Tracing from "./Tracing.ts"
export * as JsonPath from "./documentStore/JsonPath.ts"
export * as JsonText from "./documentStore/JsonText.ts"
export { type PublishError, type RawEntry } from "./StreamLog.ts"
export { leaseScript } from "./Lease.ts"
export { DatabaseError, toDatabaseError, type Queryable } from "./Database.ts"
export { type DocumentStoreError } from "./DocumentStore.ts"
export { type RequestFailed } from "./RequestReply.ts"
export { uuidv7 } from "./Ids.ts"
export { type Delivered } from "./Envelope.ts"
export { type ScryptParams } from "./PasswordHash.ts"
export * as Readiness from "./Readiness.ts"
export * as Retention from "./Retention.ts"
export * as DeadLetters from "./DeadLetters.ts"
