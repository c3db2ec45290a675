// Raw `pg` connections for the connector: a replication connection (`replication: "database"`,
// which speaks CREATE_REPLICATION_SLOT / START_REPLICATION) and plain ones (control queries,
// the snapshot). We need raw clients rather than the shared Database pool: the replication
// protocol's CopyBoth mode and an exported snapshot both belong to one specific connection.
//
// `pg` has no API for CopyBoth, but its connection emits every CopyData message as `copyData`
// and can send CopyData (`sendCopyFromChunk`) and CopyDone (`endCopyFrom`), which is all the
// streaming protocol needs. Flow control is TCP's: when more than `highWater` messages wait to
// be processed we pause the socket, the server's send buffer fills and the walsender waits, so
// a burst or a huge transaction never piles up in our memory.
import { Cause, Effect, Queue, type Scope } from "effect"
import pg from "pg"
import * as CdcError from "./CdcError.ts"
import * as Lsn from "./Lsn.ts"
import * as PgOutput from "./PgOutput.ts"

/**
 * Session settings both the walsender and the snapshot reader format values with, so a value
 * reads the same from either: ISO dates, UTC, shortest exact floats (what PostgreSQL's own
 * subscriber asks for, plus the time zone).
 */
export const SESSION_OPTIONS = "-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3 -c timezone=UTC"

/** Every column as PostgreSQL's text output: no parsing into JS numbers, dates or arrays. */
const rawText: pg.CustomTypesConfig = { getTypeParser: () => (value: string) => value } as pg.CustomTypesConfig

interface CopyBothConnection {
  readonly stream: { pause(): void; resume(): void }
  on(event: "copyData", listener: (message: { chunk: Buffer }) => void): void
  removeAllListeners(event: "copyData"): void
  sendCopyFromChunk(chunk: Buffer): void
  endCopyFrom(): void
}

export type Row = Record<string, string | null>

export interface PgClient {
  readonly client: pg.Client
  /** A statement on this connection, values as text; no parameters means the simple protocol. */
  readonly query: (sql: string, params?: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<Row>, CdcError.CdcError>
}

/** Opens a connection, closed with the scope. `replication` makes it a walsender connection. */
export const connect = (url: string, options: { readonly replication?: boolean; readonly name: string }) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const client = new pg.Client({
          connectionString: url,
          options: SESSION_OPTIONS,
          types: rawText,
          application_name: options.name,
          keepAlive: true,
          ...(options.replication ? { replication: "database" } : {})
        } as pg.ClientConfig)
        // A lost server is reported by the statement that was running (or by the stream's
        // end); without a listener the `error` event would crash the process.
        client.on("error", () => {})
        try {
          await client.connect()
        } catch (cause) {
          await client.end().catch(() => {})
          throw cause
        }
        return client
      },
      catch: CdcError.database(`connecting to PostgreSQL (${options.name})`)
    }),
    (client) => Effect.promise(() => client.end().catch(() => {}))
  ).pipe(
    Effect.map(
      (client): PgClient => ({
        client,
        query: (sql, params) =>
          Effect.tryPromise({
            try: () => (params ? client.query(sql, [...params]) : client.query(sql)),
            catch: CdcError.database(sql.split("\n")[0]!.slice(0, 80))
          }).pipe(Effect.map((result) => result.rows as ReadonlyArray<Row>))
      })
    )
  )

export interface CreatedSlot {
  readonly consistentPoint: bigint
  /** Valid until the next command on the replication connection that created it. */
  readonly snapshotName: string
}

/**
 * CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT, on a replication connection. A `temporary` slot
 * (a read model's rebuild takes one only for its consistent snapshot) is dropped by the server
 * when the connection closes.
 */
export const createSlot = (replication: PgClient, slot: string, options: { readonly temporary?: boolean } = {}) =>
  replication
    .query(
      `CREATE_REPLICATION_SLOT ${pg.escapeIdentifier(slot)}${options.temporary ? " TEMPORARY" : ""} LOGICAL pgoutput EXPORT_SNAPSHOT`
    )
    .pipe(
      Effect.map(
        ([row]): CreatedSlot => ({
          consistentPoint: Lsn.parse(row!["consistent_point"]!),
          snapshotName: row!["snapshot_name"]!
        })
      )
    )

export interface ReplicationStream {
  /** The next messages (at least one, at most `max`); fails when the stream ends or breaks. */
  readonly take: (max: number) => Effect.Effect<ReadonlyArray<PgOutput.ServerMessage>, CdcError.CdcError>
  /** Confirms everything up to `lsn` (Standby Status Update). */
  readonly confirm: (lsn: bigint) => Effect.Effect<void>
  /** Ends the stream (CopyDone) and waits briefly for the server to finish it. */
  readonly stop: Effect.Effect<void>
}

export interface StartOptions {
  readonly slot: string
  readonly publication: string
  readonly from: bigint
  /** Received messages waiting to be processed before the socket is paused. */
  readonly highWater?: number
}

/** START_REPLICATION on a replication connection; the stream is stopped with the scope. */
export const startReplication = (
  replication: PgClient,
  options: StartOptions
): Effect.Effect<ReplicationStream, never, Scope.Scope> =>
  Effect.gen(function* () {
    const highWater = options.highWater ?? 4096
    const lowWater = Math.floor(highWater / 4)
    const connection = (replication.client as unknown as { connection: CopyBothConnection }).connection
    const queue = yield* Queue.unbounded<PgOutput.ServerMessage, CdcError.CdcError>()
    let paused = false
    let ended = false

    connection.on("copyData", ({ chunk }) => {
      try {
        // A copy: pg's parser reuses its buffer for later socket data, and this message may
        // wait in the queue while more arrives.
        Queue.offerUnsafe(queue, PgOutput.decodeServerMessage(Buffer.from(chunk)))
      } catch (cause) {
        Queue.failCauseUnsafe(queue, Cause.fail(CdcError.protocol(cause)))
        return
      }
      if (!paused && Queue.sizeUnsafe(queue) >= highWater) {
        paused = true
        connection.stream.pause()
      }
    })

    const sql =
      `START_REPLICATION SLOT ${pg.escapeIdentifier(options.slot)} LOGICAL ${Lsn.format(options.from)} ` +
      `(proto_version '1', publication_names ${pg.escapeLiteral(options.publication)})`
    const finished = replication.client.query(sql).then(
      () => {
        ended = true
        Queue.failCauseUnsafe(
          queue,
          Cause.fail(new CdcError.CdcError({ reason: "Database", message: "the server ended the replication stream" }))
        )
      },
      (cause: unknown) => {
        ended = true
        Queue.failCauseUnsafe(queue, Cause.fail(CdcError.database("replication stream")(cause)))
      }
    )

    const stop = Effect.promise(async () => {
      connection.removeAllListeners("copyData")
      if (paused) connection.stream.resume()
      if (ended) return
      try {
        connection.endCopyFrom()
      } catch {
        return
      }
      await Promise.race([finished, new Promise((r) => setTimeout(r, 2000))])
    })
    yield* Effect.addFinalizer(() => stop)

    return {
      take: (max) =>
        Queue.takeBetween(queue, 1, max).pipe(
          Effect.tap(() =>
            Effect.sync(() => {
              if (paused && Queue.sizeUnsafe(queue) <= lowWater) {
                paused = false
                connection.stream.resume()
              }
            })
          )
        ),
      confirm: (lsn) =>
        Effect.sync(() => {
          if (!ended) connection.sendCopyFromChunk(PgOutput.encodeStatusUpdate(lsn, Lsn.nowTimestamp()))
        }),
      stop
    }
  })
