// @bank/cdc: the change data capture connector. PostgreSQL logical replication (pgoutput) of the
// systems of record into the `cdc.<system>` Redis Streams: the initial snapshot, the replication
// session, translation of rows into the contracts' CDC entries, and their idempotent writing
// (CdcConnector.ts ties them together; main.ts is the process).
export * as CdcConnector from "./CdcConnector.ts"
export * as Lsn from "./Lsn.ts"
export * as PgConnection from "./PgConnection.ts"
export * as Snapshot from "./Snapshot.ts"
export { CdcError } from "./CdcError.ts"
export * as ColumnFilter from "./ColumnFilter.ts"
export * as Scrub from "./Scrub.ts"
export * as FreshSnapshot from "./FreshSnapshot.ts"
export * as Rebuild from "./Rebuild.ts"
export * as Replay from "./Replay.ts"
