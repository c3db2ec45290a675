// The PostgreSQL connection every service shares: a `pg` Pool behind an Effect service.
// PostgreSQL holds the systems of record (and payments); Redis only projects them, so the
// callers that touch it need to know whether a failure is worth retrying. `DatabaseError`
// therefore carries a `reason` derived from the SQLSTATE class, and `retryable` on top.
import { Config, Context, Effect, Layer, Redacted, Schema } from "effect"
import pg from "pg"

export const DatabaseErrorReason = Schema.Literals(["Unavailable", "Serialization", "Constraint", "Query"])
export type DatabaseErrorReason = typeof DatabaseErrorReason.Type

/**
 * - `Unavailable`: no connection, server shutting down or out of resources: retry later.
 * - `Serialization`: serialization failure or deadlock (SQLSTATE class 40): retry the transaction.
 * - `Constraint`: an integrity constraint said no (class 23); `constraint` names it.
 * - `Query`: anything else (syntax, data, programming errors): retrying will not help.
 */
export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  reason: DatabaseErrorReason,
  code: Schema.optional(Schema.String),
  constraint: Schema.optional(Schema.String),
  cause: Schema.Defect()
}) {
  get retryable(): boolean {
    return this.reason === "Unavailable" || this.reason === "Serialization"
  }

  override get message(): string {
    // The cause may be a plain object (a decoded defect) with no toString of its own.
    const text =
      this.cause instanceof Error ? this.cause.message : (fieldOf(this.cause, "message") ?? safeText(this.cause))
    return `${this.reason}${this.code ? ` (${this.code})` : ""}: ${text}`
  }
}

const safeText = (value: unknown): string => {
  try {
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value)
  } catch {
    return "unprintable cause"
  }
}

const fieldOf = (cause: unknown, field: string): string | undefined => {
  const value = typeof cause === "object" && cause !== null ? (cause as Record<string, unknown>)[field] : undefined
  return typeof value === "string" ? value : undefined
}

// Server errors carry a five-character SQLSTATE; Node socket errors (ECONNREFUSED...) carry a
// `code` too, which is not one.
const sqlStateOf = (cause: unknown): string | undefined => {
  const code = fieldOf(cause, "code")
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

const reasonOf = (cause: unknown, sqlState: string | undefined): DatabaseErrorReason => {
  if (sqlState === undefined) {
    // No SQLSTATE: pg threw before or without talking to the server. A bad argument is our
    // bug; everything else (refused, reset, pool connect timeout, terminated) is the network.
    return cause instanceof TypeError || cause instanceof RangeError ? "Query" : "Unavailable"
  }
  switch (sqlState.slice(0, 2)) {
    case "23":
      return "Constraint"
    case "40":
      return "Serialization"
    case "08":
      return sqlState === "08P01" ? "Query" : "Unavailable" // 08P01: protocol violation, our bug
    case "53": // insufficient resources (too many connections, disk full)
    case "57": // operator intervention (shutdown, statement timeout)
    case "58": // system error (I/O)
      return "Unavailable"
    default:
      return "Query"
  }
}

export const toDatabaseError = (cause: unknown): DatabaseError => {
  const code = sqlStateOf(cause)
  const constraint = fieldOf(cause, "constraint")
  return new DatabaseError({
    reason: reasonOf(cause, code),
    cause,
    ...(code !== undefined ? { code } : {}),
    ...(constraint !== undefined ? { constraint } : {})
  })
}

export type Row = Record<string, unknown>

/** What a transaction body queries through: one client, inside BEGIN ... COMMIT. */
export interface Queryable {
  readonly query: <A extends object = Row>(
    sql: string,
    params?: ReadonlyArray<unknown>
  ) => Effect.Effect<ReadonlyArray<A>, DatabaseError>
}

export type IsolationLevel = "read committed" | "repeatable read" | "serializable"

export class Database extends Context.Service<
  Database,
  Queryable & {
    /**
     * Runs `f` in one transaction on one client: COMMIT when it succeeds, ROLLBACK when it fails,
     * dies or is interrupted. Query only through the `tx` it is given.
     */
    readonly transaction: <A, E, R>(
      f: (tx: Queryable) => Effect.Effect<A, E, R>,
      options?: { readonly isolation?: IsolationLevel }
    ) => Effect.Effect<A, E | DatabaseError, R>
    /** A round trip (`SELECT 1`): what readiness checks use. */
    readonly ping: Effect.Effect<void, DatabaseError>
  }
>()("@bank/platform/Database") {}

export interface DatabaseOptions {
  readonly url: string | Redacted.Redacted<string>
  /** Most connections this process opens (default 10). */
  readonly maxConnections?: number
  /** How long a query waits for a connection before failing `Unavailable` (default 5000). */
  readonly connectTimeoutMillis?: number
}

const queryWith =
  (client: pg.Pool | pg.PoolClient) =>
  <A extends object = Row>(sql: string, params: ReadonlyArray<unknown> = []) =>
    Effect.tryPromise({
      try: () => client.query(sql, [...params]),
      catch: toDatabaseError
    }).pipe(Effect.map((result) => result.rows as ReadonlyArray<A>))

/**
 * Builds the service on a new pool, closed when the scope ends. Connections open lazily: the
 * process starts while PostgreSQL is down and `ping` (readiness) says so.
 */
export const make = Effect.fnUntraced(function* (options: DatabaseOptions) {
  const pool = yield* Effect.acquireRelease(
    Effect.sync(
      () =>
        new pg.Pool({
          connectionString: Redacted.isRedacted(options.url) ? Redacted.value(options.url) : options.url,
          max: options.maxConnections ?? 10,
          connectionTimeoutMillis: options.connectTimeoutMillis ?? 5000
        })
    ),
    (pool) => Effect.promise(() => pool.end()).pipe(Effect.ignore)
  )
  // An idle client whose server went away emits `error` on the pool; an EventEmitter without an
  // `error` listener throws, which would take the process down with the database.
  const runSync = Effect.runSyncWith(yield* Effect.context<never>())
  pool.on("error", (cause) => runSync(Effect.logWarning("Database idle client error", cause)))

  const query = queryWith(pool)

  const transaction = <A, E, R>(
    f: (tx: Queryable) => Effect.Effect<A, E, R>,
    options?: { readonly isolation?: IsolationLevel }
  ): Effect.Effect<A, E | DatabaseError, R> =>
    Effect.acquireUseRelease(
      Effect.tryPromise({ try: () => pool.connect(), catch: toDatabaseError }).pipe(
        Effect.map((client) => {
          // A checked-out client has no pool listener: a server lost between our statements
          // would otherwise be an unhandled `error` event. The failed statement reports it.
          const onError = (cause: unknown) => runSync(Effect.logWarning("Database client error in transaction", cause))
          client.on("error", onError)
          return { client, onError }
        })
      ),
      ({ client }) => {
        const tx = queryWith(client)
        const begin = options?.isolation ? `BEGIN ISOLATION LEVEL ${options.isolation.toUpperCase()}` : "BEGIN"
        return tx(begin).pipe(
          Effect.andThen(f({ query: tx })),
          Effect.tap(() => tx("COMMIT"))
        )
      },
      ({ client, onError }, exit) =>
        Effect.gen(function* () {
          // A client whose ROLLBACK fails is in an unknown state: destroy it rather than pool it.
          const rolledBack =
            exit._tag === "Success"
              ? true
              : yield* queryWith(client)("ROLLBACK").pipe(
                  Effect.as(true),
                  Effect.orElseSucceed(() => false)
                )
          client.removeListener("error", onError)
          client.release(rolledBack ? undefined : true)
        })
    ).pipe(Effect.withSpan("Database.transaction"))

  return Database.of({
    // Spans by hand: `Effect.fn` would erase the row type parameter.
    query: <A extends object = Row>(sql: string, params?: ReadonlyArray<unknown>) =>
      query<A>(sql, params).pipe(Effect.withSpan("Database.query")),
    transaction,
    ping: query("SELECT 1").pipe(Effect.asVoid, Effect.withSpan("Database.ping"))
  })
})

/** Connects to `url` (a `postgres://` connection string). */
export const layer = (url: string | Redacted.Redacted<string>, options?: Omit<DatabaseOptions, "url">) =>
  Layer.effect(Database, make({ ...options, url }))

/** Connects to `DATABASE_URL`, with `DATABASE_POOL_MAX` and `DATABASE_CONNECT_TIMEOUT_MS`. */
export const layerConfig = Layer.effect(
  Database,
  Effect.gen(function* () {
    const options = yield* Config.all({
      url: Config.Redacted("DATABASE_URL").pipe(
        Config.withDefault(Redacted.make("postgres://postgres@127.0.0.1:5432/postgres"))
      ),
      maxConnections: Config.Int("DATABASE_POOL_MAX").pipe(Config.withDefault(10)),
      connectTimeoutMillis: Config.Int("DATABASE_CONNECT_TIMEOUT_MS").pipe(Config.withDefault(5000))
    })
    return yield* make(options)
  })
)
