// The JSON document store behind every read model (tokens, sessions, profiles, dashboards).
//
// One service, two backends chosen at start-up by asking the server whether it has the JSON
// type (`backend` says which; the choice is logged):
//   native  RedisJSON (Redis 8, Redis Stack): documents are JSON values, written through one
//           Lua script around JSON.* that creates missing parents and makes `apply` atomic.
//   lua     any Redis 7 / Valkey / managed Redis: documents are JSON text in string keys,
//           changed atomically by the project's Lua (documentStore/lua/*.lua), which keeps
//           numbers as their original digits (no cjson round trip: it turns [] into {} and keeps
//           14 significant digits) and adds decimals digit by digit. Reads are one plain GET;
//           a path is then found in the client (documentStore/JsonScan.ts).
// The two keep documents in different key types: switching a deployment's backend means
// rebuilding its read models (layerConfig lets it pin one).
//
// Paths are a small JSONPath subset ($, $.a.b, $.list[0], $["key with.dots"]; see
// documentStore/JsonPath.ts). Writes create missing parent objects; array elements are never
// created by a path (append to the array instead).
//
// Exact numbers: JSON.parse rounds integers beyond 2^53, so
//   - values may contain `bigint`, written as JSON numbers with every digit;
//   - `incr` takes `number | bigint | string` ("12.50") and returns the new value as exact text;
//   - `getRaw` returns the stored JSON text untouched (the edge serves it as is).
// Money is integer minor units or decimal strings, never floats. The native backend keeps
// integers exactly only within int64 and decimals within 15 digits (RedisJSON stores the rest
// as doubles): it refuses bigger bigints and increments with reason "NotExact" rather than
// round them; the lua backend has no such limit.
import { Config, Context, Effect, Layer, Option, Schema } from "effect"
import { Redis, type RedisError } from "effect/persistence/Redis"
import * as Backend from "./documentStore/Backend.ts"
import * as JsonPath from "./documentStore/JsonPath.ts"
import * as JsonScan from "./documentStore/JsonScan.ts"
import * as JsonText from "./documentStore/JsonText.ts"
import * as Tracing from "./Tracing.ts"

export type { Json } from "./documentStore/JsonText.ts"
export type { BackendName, Once } from "./documentStore/Backend.ts"
type Json = JsonText.Json

export const reasons = [
  "InvalidPath",
  "InvalidValue",
  "TypeMismatch",
  "PathNotFound",
  "NotExact",
  "CorruptDocument",
  "Unavailable"
] as const

/**
 * InvalidPath: not in the path subset. InvalidValue: not JSON (NaN, a function, a bad increment).
 * TypeMismatch: the value at the path (or on the way) is of the wrong kind, e.g. incr on a string.
 * PathNotFound: an array index past the end. NotExact: a number the backend cannot hold exactly.
 * CorruptDocument: the stored text is not JSON. Unavailable: Redis failed (retryable; has a cause).
 * On every reason but Unavailable the document was left unchanged.
 */
export class DocumentStoreError extends Schema.TaggedError<DocumentStoreError>()("DocumentStoreError", {
  key: Schema.String,
  reason: Schema.Literals(reasons),
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/** One write on a document; `apply` runs several on one document atomically. */
export type Op =
  | { readonly op: "set"; readonly path: string; readonly value: Json }
  | { readonly op: "merge"; readonly path: string; readonly patch: Json }
  | { readonly op: "incr"; readonly path: string; readonly by: number | bigint | string }
  | {
      readonly op: "append"
      readonly path: string
      readonly values: ReadonlyArray<Json>
      readonly keepLast?: number | undefined
    }
  | { readonly op: "delete"; readonly path: string }
  | { readonly op: "guard"; readonly path: string; readonly below: string }

export const Op = {
  set: (path: string, value: Json): Op => ({ op: "set", path, value }),
  /** RFC 7386 merge patch: objects merge key by key, null deletes, arrays and scalars replace. */
  merge: (path: string, patch: Json): Op => ({ op: "merge", path, patch }),
  /** Adds `by` exactly; a missing number counts as 0. */
  incr: (path: string, by: number | bigint | string): Op => ({ op: "incr", path, by }),
  /** Appends to the array at `path` (created when missing), keeping only the newest `keepLast`. */
  append: (path: string, values: ReadonlyArray<Json>, keepLast?: number): Op => ({
    op: "append",
    path,
    values,
    keepLast
  }),
  delete: (path: string): Op => ({ op: "delete", path }),
  /**
   * A precondition of the whole `apply`: unless the string at `path` is missing or sorts before
   * `below` (byte by byte), nothing is written and `apply` answers Stale. With fixed-width
   * positions or revisions it drops a redelivered older change, or makes a read-modify-write a
   * compare-and-set. Guards are checked before any write, wherever they stand in the list; a
   * value at `path` that is not a string is a TypeMismatch.
   */
  guard: (path: string, below: string): Op => ({ op: "guard", path, below })
}

/** Per op: incr the new value (exact text), append the new length, delete whether something went, set/merge/guard null. */
export type OpResult = string | number | boolean | null

export type ApplyResult =
  | { readonly _tag: "Applied"; readonly results: ReadonlyArray<OpResult> }
  /** The marker already held this id: nothing was applied. */
  | { readonly _tag: "Duplicate" }
  /** A guard did not pass: nothing was applied (the marker neither). */
  | { readonly _tag: "Stale" }

export interface ApplyOptions {
  /** Apply at most once per id: the marker key (same hash tag as the document) records the id. */
  readonly once?: Backend.Once | undefined
}

export class DocumentStore extends Context.Service<
  DocumentStore,
  {
    readonly backend: Backend.BackendName
    /** The value at `path` (default the whole document), parsed; none when the key or path is missing. */
    readonly get: (key: string, path?: string) => Effect.Effect<Option.Option<unknown>, DocumentStoreError>
    /** The stored JSON text at `path`, untouched: exact numbers, no re-serialising. */
    readonly getRaw: (key: string, path?: string) => Effect.Effect<Option.Option<string>, DocumentStoreError>
    readonly set: (key: string, path: string, value: Json) => Effect.Effect<void, DocumentStoreError>
    readonly merge: (key: string, path: string, patch: Json) => Effect.Effect<void, DocumentStoreError>
    /** Returns the new value as exact decimal text. */
    readonly incr: (
      key: string,
      path: string,
      by: number | bigint | string
    ) => Effect.Effect<string, DocumentStoreError>
    /** Returns the array's length afterwards. */
    readonly append: (
      key: string,
      path: string,
      values: ReadonlyArray<Json>,
      options?: { readonly keepLast?: number }
    ) => Effect.Effect<number, DocumentStoreError>
    /** Deletes the value at `path` (default: the whole document); false when there was none. */
    readonly delete: (key: string, path?: string) => Effect.Effect<boolean, DocumentStoreError>
    /** All of `ops` on one document in one server-side step, or none of them when one fails or a guard does not pass. */
    readonly apply: (
      key: string,
      ops: ReadonlyArray<Op>,
      options?: ApplyOptions
    ) => Effect.Effect<ApplyResult, DocumentStoreError>
  }
>()("@bank/platform/DocumentStore") {}

const isReason = (s: string): s is DocumentStoreError["reason"] => (reasons as ReadonlyArray<string>).includes(s)

const fromRedis =
  (key: string) =>
  (error: RedisError): DocumentStoreError => {
    const text = error.cause instanceof Error ? error.cause.message : String(error.cause)
    const script = /^DOCSTORE (\w+) ([\s\S]*)$/.exec(text)
    if (script && isReason(script[1]!)) return new DocumentStoreError({ key, reason: script[1], message: script[2]! })
    if (text.startsWith("WRONGTYPE")) {
      return new DocumentStoreError({
        key,
        reason: "TypeMismatch",
        message: `${key} holds a value that is not a document of this store`
      })
    }
    return new DocumentStoreError({ key, reason: "Unavailable", message: text, cause: error })
  }

// Projectors write the same few paths millions of times: each is parsed and encoded once.
const encodedPaths = new Map<string, string>()
const encodePath = (text: string): string => {
  let encoded = encodedPaths.get(text)
  if (encoded === undefined) {
    encoded = JSON.stringify(JsonPath.parse(text))
    if (encodedPaths.size >= 1024) encodedPaths.clear()
    encodedPaths.set(text, encoded)
  }
  return encoded
}

// Validates and encodes ops into the scripts' ARGV (4 per op); throws on bad input.
const encode = (ops: ReadonlyArray<Op>, int64: boolean): Array<string> =>
  ops.flatMap((op): Array<string> => {
    const path = encodePath(op.path)
    const json = (value: Json) => JsonText.stringify(value, { int64 })
    switch (op.op) {
      case "set":
        return ["set", path, json(op.value), ""]
      case "merge":
        return ["merge", path, json(op.patch), ""]
      case "incr":
        return ["incr", path, JsonText.decimal(op.by), ""]
      case "append": {
        const keep = op.keepLast
        if (keep !== undefined && !(Number.isSafeInteger(keep) && keep > 0)) {
          throw new JsonText.JsonValueError(`keepLast must be a positive integer, not ${keep}`)
        }
        return ["append", path, json(op.values), keep === undefined ? "" : String(keep)]
      }
      case "delete":
        return ["delete", path, "", ""]
      case "guard":
        if (typeof op.below !== "string") throw new JsonText.JsonValueError("a guard's `below` must be a string")
        return ["guard", path, op.below, ""]
    }
  })

const decodeResult = (op: Op, text: string): OpResult => {
  switch (op.op) {
    case "incr":
      return text
    case "append":
      return Number(text)
    case "delete":
      return text === "1"
    default:
      return null
  }
}

const invalid =
  (key: string) =>
  (error: unknown): DocumentStoreError =>
    new DocumentStoreError({
      key,
      reason:
        error instanceof JsonPath.PathSyntaxError
          ? "InvalidPath"
          : error instanceof JsonText.NotExactError
            ? "NotExact"
            : "InvalidValue",
      message: error instanceof Error ? error.message : String(error)
    })

// Redis Cluster hashes only the part between the first { and the next }, when not empty.
const hashTag = (key: string): string => {
  const open = key.indexOf("{")
  const close = open < 0 ? -1 : key.indexOf("}", open + 1)
  return close > open + 1 ? key.slice(open + 1, close) : key
}

const checkOnce = (key: string, once: Backend.Once | undefined): void => {
  if (once === undefined) return
  if (hashTag(once.markerKey) !== hashTag(key)) {
    throw new JsonText.JsonValueError(
      `the marker ${once.markerKey} must share the hash tag of ${key}, or one script could not touch both on a cluster`
    )
  }
  if (once.id === "") throw new JsonText.JsonValueError("the once id must not be empty")
  if (!(Number.isSafeInteger(once.ttlSeconds) && once.ttlSeconds > 0)) {
    throw new JsonText.JsonValueError(`the marker's ttlSeconds must be a positive integer, not ${once.ttlSeconds}`)
  }
}

export interface Options {
  /** Default "auto": native when the server has the JSON type, lua otherwise. */
  readonly backend?: Backend.BackendName | "auto"
}

export const make = (options: Options = {}) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const hasJson = yield* Backend.hasJsonType(redis)
    const wanted = options.backend ?? "auto"
    if (wanted === "native" && !hasJson) {
      return yield* new DocumentStoreError({
        key: "",
        reason: "Unavailable",
        message: "the native backend needs the JSON type, which this Redis does not have"
      })
    }
    const backend = wanted === "lua" || !hasJson ? Backend.luaBackend(redis) : Backend.nativeBackend(redis)
    yield* Effect.logInfo(`DocumentStore uses the ${backend.name} backend`).pipe(
      Effect.annotateLogs({ backend: backend.name, serverHasJson: hasJson })
    )

    const parsePath = (key: string, path: string) =>
      Effect.try({ try: () => JsonPath.parse(path), catch: invalid(key) })

    const getRawAt = Effect.fn("DocumentStore.getRaw")(function* (key: string, path: string) {
      const segments = yield* parsePath(key, path)
      const text = yield* backend.read(key, segments).pipe(Effect.mapError(fromRedis(key)))
      if (text === null || backend.resolvesPaths || segments.length === 0) return Option.fromNullishOr(text)
      return Option.fromNullishOr(
        yield* Effect.try({
          try: () => JsonScan.valueAt(text, segments),
          catch: (error) =>
            new DocumentStoreError({
              key,
              reason: "CorruptDocument",
              message: String(error instanceof Error ? error.message : error)
            })
        })
      )
    })
    // A whole document is what every read route serves, once per request: the same span, but
    // no call-site stack captured (Effect.fn's `new Error()` per call) and no path parsing.
    const rootPath: JsonPath.Path = []
    const getRawRoot = (key: string) =>
      backend
        .read(key, rootPath)
        .pipe(
          Effect.mapError(fromRedis(key)),
          Effect.map(Option.fromNullishOr),
          Effect.withSpan("DocumentStore.getRaw", undefined, { captureStackTrace: false })
        )
    const getRaw = (key: string, path = "$") => (path === "$" ? getRawRoot(key) : getRawAt(key, path))

    const get = Effect.fn("DocumentStore.get")(function* (key: string, path = "$") {
      const text = yield* getRaw(key, path)
      if (Option.isNone(text)) return Option.none<unknown>()
      return Option.some<unknown>(
        yield* Effect.try({
          try: () => JSON.parse(text.value) as unknown,
          catch: () =>
            new DocumentStoreError({ key, reason: "CorruptDocument", message: `${key} does not hold JSON text` })
        })
      )
    })

    // Projectors call it for every document they write: a span, no call-site stack (fnSpan).
    const apply = Tracing.fnSpan("DocumentStore.apply")(
      Effect.fnUntraced(function* (
        key: string,
        ops: ReadonlyArray<Op>,
        options: ApplyOptions = {}
      ): Effect.fn.Return<ApplyResult, DocumentStoreError> {
        const args = yield* Effect.try({
          try: () => {
            checkOnce(key, options.once)
            return encode(ops, backend.int64)
          },
          catch: invalid(key)
        })
        if (args.length === 0 && options.once === undefined) return { _tag: "Applied", results: [] }
        const reply = yield* backend.apply(key, options.once, args).pipe(Effect.mapError(fromRedis(key)))
        if (reply[0] === "duplicate") return { _tag: "Duplicate" }
        if (reply[0] === "stale") return { _tag: "Stale" }
        return { _tag: "Applied", results: ops.map((op, i) => decodeResult(op, reply[i + 1] ?? "")) }
      })
    )

    const one = (key: string, op: Op) =>
      apply(key, [op]).pipe(Effect.map((r) => (r._tag === "Applied" ? (r.results[0] ?? null) : null)))

    const set = Effect.fn("DocumentStore.set")(function* (key: string, path: string, value: Json) {
      if (path !== "$") return yield* Effect.asVoid(one(key, Op.set(path, value)))
      // The whole document: one plain command, no script.
      const text = yield* Effect.try({
        try: () => JsonText.stringify(value, { int64: backend.int64 }),
        catch: invalid(key)
      })
      yield* backend.setRoot(key, text).pipe(Effect.mapError(fromRedis(key)))
    })

    const del = Effect.fn("DocumentStore.delete")(function* (key: string, path = "$") {
      if (path === "$") return (yield* redis.send<number>("DEL", key).pipe(Effect.mapError(fromRedis(key)))) > 0
      return (yield* one(key, Op.delete(path))) === true
    })

    return DocumentStore.of({
      backend: backend.name,
      get,
      getRaw,
      set,
      merge: Effect.fn("DocumentStore.merge")((key: string, path: string, patch: Json) =>
        Effect.asVoid(one(key, Op.merge(path, patch)))
      ),
      incr: Effect.fn("DocumentStore.incr")((key: string, path: string, by: number | bigint | string) =>
        Effect.map(one(key, Op.incr(path, by)), String)
      ),
      append: Effect.fn("DocumentStore.append")(
        (key: string, path: string, values: ReadonlyArray<Json>, options: { readonly keepLast?: number } = {}) =>
          Effect.map(one(key, Op.append(path, values, options.keepLast)), Number)
      ),
      delete: del,
      apply
    })
  })

/** The store on the `Redis` service, backend chosen by asking the server. */
export const layer = Layer.effect(DocumentStore, make())

/** The store with a given backend (tests run the lua backend on servers that have JSON too). */
export const layerBackend = (backend: Backend.BackendName) => Layer.effect(DocumentStore, make({ backend }))

/**
 * DOCUMENT_STORE_BACKEND = auto (default) | native | lua. A deployment moving to a server with
 * JSON pins "lua" until its read models are rebuilt with the native backend.
 */
export const layerConfig = Layer.effect(
  DocumentStore,
  Effect.gen(function* () {
    const backend = yield* Config.Literals(["auto", "native", "lua"], "DOCUMENT_STORE_BACKEND").pipe(
      Config.withDefault("auto")
    )
    return yield* make({ backend })
  })
)
