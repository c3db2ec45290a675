// A Lua library loaded into Redis once as a function library (Redis 7 `FUNCTION LOAD`) and
// called with FCALL, instead of a script sent by SHA (EVALSHA runs the whole script text, its
// helper libraries included, on every call: ~19 µs for the document store's before it does
// anything). The library's text gets `#!lua name=<name>_<hash>` and `FUNCTION_SUFFIX = "_<hash>"`
// (a hash of its text), and registers its functions as `<function>` .. FUNCTION_SUFFIX: two
// versions of the code (a rolling deployment, a benchmark's before and after) each find their
// own functions on one server and never replace each other's.
//
// Loading is lazy and self-healing: a call answered "Function not found" (the first call, a
// server restarted without persistence or flushed with FUNCTION FLUSH, a new master) loads the
// library and calls again. On Redis Cluster `FUNCTION LOAD` goes to every master
// (RedisCluster.ts), and FCALL to the master of its first key; a loaded library is replicated,
// so a promoted replica has it too (and if not, the retry loads it). A server without
// functions (unknown command, or FUNCTION disabled) is told by `unsupported`, and the caller
// falls back to its script.
import { createHash } from "node:crypto"
import { Effect, Semaphore } from "effect"
import type { Redis, RedisError } from "effect/persistence/Redis"

export interface FunctionLibrary {
  /** The library's name on the server: the given name and the hash of its text. */
  readonly name: string
  /** The text FUNCTION LOAD takes. */
  readonly source: string
  /** The server-side name of function `base` of this version. */
  readonly functionName: (base: string) => string
}

/** `body` is the library's Lua (its includes expanded) registering `<function> .. FUNCTION_SUFFIX`. */
export const make = (name: string, body: string): FunctionLibrary => {
  const suffix = `_${createHash("sha1").update(body).digest("hex").slice(0, 12)}`
  return {
    name: `${name}${suffix}`,
    source: `#!lua name=${name}${suffix}\nlocal FUNCTION_SUFFIX = "${suffix}"\n${body}`,
    functionName: (base) => `${base}${suffix}`
  }
}

const message = (error: RedisError) => (error.cause instanceof Error ? error.cause.message : String(error.cause))

const notLoaded = (error: RedisError) => message(error).includes("Function not found")

/** Whether the server cannot hold functions at all (older than Redis 7, or FUNCTION disabled). */
export const unsupported = (error: RedisError): boolean =>
  /unknown command|unknown subcommand|command not allowed|NOPERM|disabled/i.test(message(error))

/** Loads `library` (again): on a cluster, on every master. */
export const load = (redis: Redis["Service"], library: FunctionLibrary): Effect.Effect<void, RedisError> =>
  Effect.asVoid(redis.send("FUNCTION", "LOAD", "REPLACE", library.source))

/**
 * Calls function `base` of `library` with `keys` and `args`, loading the library first when the
 * server does not have it.
 */
export const call = <A>(redis: Redis["Service"], library: FunctionLibrary, base: string) => {
  // Many calls at once find the library missing together: one of them loads it, the others
  // wait for that load (a load counts for every call that failed before it began).
  const permit = Semaphore.makeUnsafe(1)
  let loads = 0
  const reload = (seen: number) =>
    permit.withPermit(
      Effect.suspend(() => (loads > seen ? Effect.void : Effect.map(load(redis, library), () => void loads++)))
    )
  return (keys: ReadonlyArray<string>, args: ReadonlyArray<string>): Effect.Effect<A, RedisError> => {
    const fcall = redis.send<A>("FCALL", library.functionName(base), String(keys.length), ...keys, ...args)
    return Effect.suspend(() => {
      const seen = loads
      return fcall.pipe(Effect.catchIf(notLoaded, () => reload(seen).pipe(Effect.andThen(fcall))))
    })
  }
}
