// The two ways the document store talks to Redis. Both speak one wire format (the ARGV of
// apply.lua / native-apply.lua): DocumentStore.ts validates and encodes operations once and a
// backend only decides which commands and which script carry them.
//   lua:    documents are JSON text in string keys; reads are plain GET (paths are scanned in
//           the client, JsonScan.ts), writes run in the project's Lua (lossless, exact decimals),
//           loaded once as a Redis function library (library.lua, FunctionLibrary.ts) and called
//           with FCALL; on a server without functions, as a script (apply.lua, EVALSHA).
//   native: documents are RedisJSON values; reads are JSON.GET, writes a script around JSON.*.
import { Effect } from "effect"
import * as Redis from "effect/persistence/Redis"
import * as FunctionLibrary from "../FunctionLibrary.ts"
import * as Lua from "../Lua.ts"
import * as JsonPath from "./JsonPath.ts"

export type BackendName = "native" | "lua"

export interface Once {
  readonly markerKey: string
  readonly id: string
  readonly ttlSeconds: number
}

export interface Backend {
  readonly name: BackendName
  /** RedisJSON keeps integers exactly only within int64; bigger bigints are refused up front. */
  readonly int64: boolean
  /**
   * The stored JSON text of the value at `path` when `resolvesPaths`, else of the whole
   * document (the caller scans it); null when there is none.
   */
  readonly read: (key: string, path: JsonPath.Path) => Effect.Effect<string | null, Redis.RedisError>
  readonly resolvesPaths: boolean
  /** Replaces the whole document with `text` (already valid JSON) in one command. */
  readonly setRoot: (key: string, text: string) => Effect.Effect<void, Redis.RedisError>
  /** Runs the apply script: args are the encoded operations, 4 per operation. */
  readonly apply: (
    key: string,
    once: Once | undefined,
    args: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<string>, Redis.RedisError>
}

// library.lua, apply.lua and native-apply.lua include the shared library (lua/includes: prelude,
// json, tree, decimal, document, applyOps).
const lua = Lua.loader(new URL("./lua/", import.meta.url))

const applyScript = (source: string) =>
  Redis.script(
    (key: string, once: Once | undefined, args: ReadonlyArray<string>) =>
      once === undefined ? [key, "", "0", ...args] : [key, once.markerKey, once.id, String(once.ttlSeconds), ...args],
    { lua: source, numberOfKeys: (_key, once) => (once === undefined ? 1 : 2) }
  ).withReturnType<ReadonlyArray<string>>()

const luaApply = applyScript(lua("apply"))
const nativeApply = applyScript(lua("native-apply"))
const luaLibrary = FunctionLibrary.make("docstore", lua("library"))

/**
 * The lua backend's apply: FCALL of the function library; once a server says it has no
 * functions, the script (EVALSHA) from then on.
 */
const luaApplier = (redis: Redis.Redis["Service"]): Backend["apply"] => {
  const fcall = FunctionLibrary.call<ReadonlyArray<string>>(redis, luaLibrary, "docstore_apply")
  const script = redis.eval(luaApply)
  let functions = true
  return (key, once, args) => {
    if (!functions) return script(key, once, args)
    const call =
      once === undefined
        ? fcall([key], ["", "0", ...args])
        : fcall([key, once.markerKey], [once.id, String(once.ttlSeconds), ...args])
    return call.pipe(
      Effect.catchIf(FunctionLibrary.unsupported, () => {
        functions = false
        return script(key, once, args)
      })
    )
  }
}

export const luaBackend = (redis: Redis.Redis["Service"]): Backend => ({
  name: "lua",
  int64: false,
  // Reads are a plain GET: scanning for a path happens in the client, which scales out.
  read: (key) => redis.send<string | null>("GET", key),
  resolvesPaths: false,
  // KEEPTTL: an expiry set by the document's owner (sessions) survives a rewrite.
  setRoot: (key, text) => Effect.asVoid(redis.send("SET", key, text, "KEEPTTL")),
  apply: luaApplier(redis)
})

export const nativeBackend = (redis: Redis.Redis["Service"]): Backend => ({
  name: "native",
  int64: true,
  resolvesPaths: true,
  read: (key, path) =>
    path.length === 0
      ? redis.send<string | null>("JSON.GET", key)
      : Effect.map(redis.send<string | null>("JSON.GET", key, JsonPath.native(path)), (text) =>
          // A $-path answers with an array of matches: "[]" when there is none.
          text === null || text === "[]" ? null : text.slice(1, -1)
        ),
  setRoot: (key, text) => Effect.asVoid(redis.send("JSON.SET", key, "$", text)),
  apply: (key, once, args) => redis.eval(nativeApply)(key, once, args)
})

/**
 * Whether the server has the JSON type, recent enough for JSON.MERGE (RedisJSON 2.6+, in Redis
 * Stack 7.2+ and Redis 8). COMMAND INFO answers [null] for an unknown command; where COMMAND
 * is disabled (some managed services) a JSON.TYPE on an absent key tells.
 */
export const hasJsonType = (redis: Redis.Redis["Service"]): Effect.Effect<boolean> =>
  redis.send<ReadonlyArray<unknown>>("COMMAND", "INFO", "JSON.MERGE").pipe(
    Effect.map((info) => Array.isArray(info) && info[0] != null),
    Effect.catch(() =>
      redis.send("JSON.TYPE", "docstore:probe").pipe(
        Effect.as(true),
        Effect.orElseSucceed(() => false)
      )
    )
  )
