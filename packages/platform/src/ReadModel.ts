// Generations of a read model, so that one can be rebuilt beside the one readers use and then
// replace it at once (scripts/rebuild.ts).
//
// - A pointer per read model, `global:readmodel:<name>`, holds the generation readers use; a
//   missing pointer means 1. Generation 1 keeps the plain document key of the read model
//   (`{c:<id>}:doc:<name>`), so deployments from before generations change nothing; generation
//   N > 1 uses `{c:<id>}:doc:<name>:g<N>`, and its consumer groups are `<group>.g<N>`.
// - Readers resolve the key through the `ReadModel` service once per request: the generation is
//   cached in-process for at most `maxAgeMs` (1 s) and replaced the moment a switch notice
//   arrives on the pub/sub channel `readmodel:switched`. A request therefore reads one
//   generation only, and a switch reaches every reader within about a second even when a
//   notice is lost (a subscriber that reconnected).
// - A switch is one Lua step: compare the pointer with the generation the rebuild started from,
//   SET the new one, PUBLISH the notice. The old generation is deleted only after a grace
//   period well beyond `maxAgeMs`, so a reader that still resolved the old generation reads a
//   complete old document, never a missing one.
// - Projector processes `follow` the pointer: when it moves they stop the old generation's
//   consumers gracefully and start the new generation's (which the rebuild left caught up).
// Pub/sub here is a cache invalidation between processes, not a message between actors: losing
// one costs at most `maxAgeMs` of staleness.
import { Context, Effect, Exit, Layer, Schema, Scope } from "effect"
import { Redis, type RedisError, script } from "effect/persistence/Redis"
import * as Keys from "./Keys.ts"
import { leaseScript } from "./Lease.ts"
import { RedisTopology, scanKeys } from "./RedisTopology.ts"
import * as Lua from "./Lua.ts"

/** The pub/sub channel of switch notices, `<name> <generation>`. */
export const channel = "readmodel:switched"

export const pointerKey = (name: string): string => Keys.global(`readmodel:${name}`)

/** Held while a rebuild of `name` runs, so two cannot build the same generation. */
export const rebuildLeaseKey = (name: string): string => Keys.global(`readmodel:${name}:rebuild`)

/** The document kind of a generation: `name` for 1 (today's keys), `name:g<N>` after. */
export const documentKind = (name: string, generation: number): string =>
  generation <= 1 ? name : `${name}:g${generation}`

export const documentKey = (name: string, generation: number, customerId: string): string =>
  Keys.customer(customerId).document(documentKind(name, generation))

/** SCAN MATCH pattern of every customer's document of one generation (Keys.customer(*).document). */
export const documentPattern = (name: string, generation: number): string =>
  `{c:*}:doc:${documentKind(name, generation)}`

/** The consumer group of a generation: `group` for 1, `group.g<N>` after. */
export const groupOf = (group: string, generation: number): string =>
  generation <= 1 ? group : `${group}.g${generation}`

export const parseGeneration = (text: string | null | undefined): number => {
  const n = Number(text ?? "1")
  return Number.isSafeInteger(n) && n >= 1 ? n : 1
}

export class ReadModelError extends Schema.TaggedError<ReadModelError>()("ReadModelError", {
  name: Schema.String,
  /** Busy: another rebuild holds the lease. Conflict: the pointer moved under us. */
  reason: Schema.Literals(["Busy", "Conflict"]),
  message: Schema.String
}) {}

const switchScript = script(
  (pointer: string, from: number, to: number, notice: string) => [pointer, from, to, channel, notice],
  { lua: Lua.source("switchGeneration"), numberOfKeys: 1 }
).withReturnType<number>()

/** The generation readers use, read from Redis now (no cache). */
export const generation = (name: string): Effect.Effect<number, RedisError, Redis> =>
  Redis.use((redis) => redis.send<string | null>("GET", pointerKey(name))).pipe(Effect.map(parseGeneration))

/** Points readers at `to` if the pointer still holds `from`; every process is told at once. */
export const switchGeneration = Effect.fn("ReadModel.switchGeneration")(function* (
  name: string,
  from: number,
  to: number
) {
  const redis = yield* Redis
  const switched = yield* redis.eval(switchScript)(pointerKey(name), from, to, `${name} ${to}`)
  if (switched !== 1) {
    return yield* new ReadModelError({
      name,
      reason: "Conflict",
      message: `the pointer of ${name} no longer holds generation ${from}`
    })
  }
})

export interface DropOptions {
  readonly name: string
  readonly generation: number
  /** The generation's consumer groups: destroyed. */
  readonly groups: ReadonlyArray<{ readonly stream: string; readonly group: string }>
  /** Other keys of the generation (leases, checkpoints): deleted. */
  readonly keys?: ReadonlyArray<string>
  /** SCAN MATCH patterns of the generation's keys that are not documents (hashes, pointers): deleted, counted as documents. */
  readonly patterns?: ReadonlyArray<string>
  /** Keys per SCAN step and UNLINK (default 1000). */
  readonly batch?: number
  readonly onProgress?: (deleted: number) => void
}

/**
 * Deletes one generation's documents (SCAN MATCH + UNLINK, a batch at a time, so Redis never
 * blocks) and its consumer groups. On a cluster SCAN must run on every primary: this walks the
 * node it is connected to.
 */
export const dropGeneration = Effect.fn("ReadModel.dropGeneration")(function* (options: DropOptions) {
  // Generation 0 would name generation 1's documents.
  if (!(Number.isSafeInteger(options.generation) && options.generation >= 1)) {
    return yield* Effect.die(new RangeError(`no generation ${options.generation} of ${options.name}`))
  }
  const redis = yield* Redis
  let documents = 0
  // Every master's keys; one UNLINK per key, since a batch holds keys of many slots.
  for (const pattern of [documentPattern(options.name, options.generation), ...(options.patterns ?? [])]) {
    yield* scanKeys(
      pattern,
      (keys) =>
        Effect.forEach(keys, (key) => redis.send<number>("UNLINK", key), { concurrency: 16 }).pipe(
          Effect.map((removed) => {
            documents += removed.reduce((a, b) => a + b, 0)
            options.onProgress?.(documents)
          })
        ),
      { count: options.batch ?? 1000 }
    )
  }
  let groups = 0
  for (const { stream, group } of options.groups) {
    groups += yield* redis.send<number>("XGROUP", "DESTROY", Keys.stream(stream), group).pipe(
      Effect.catchIf(
        (e) => String(e.cause).includes("no such key"),
        () => Effect.succeed(0)
      )
    )
  }
  if (options.keys) yield* Effect.forEach(options.keys, (key) => redis.send("UNLINK", key), { discard: true })
  return { documents, groups }
})

/**
 * Holds the rebuild lease of `name` for the current scope (renewed in the background, given
 * back when the scope closes); fails Busy when another rebuild holds it.
 */
export const holdRebuildLease = (name: string, holder: string, ttlMs = 30_000) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const key = rebuildLeaseKey(name)
    const take = redis.eval(leaseScript)(key, holder, ttlMs)
    if ((yield* take) !== 1) {
      return yield* new ReadModelError({
        name,
        reason: "Busy",
        message: `another rebuild of ${name} is running (${key})`
      })
    }
    yield* Effect.addFinalizer(() => redis.eval(leaseScript)(key, holder, 0).pipe(Effect.ignore))
    yield* Effect.forkScoped(
      Effect.forever(Effect.sleep(Math.floor(ttlMs / 3)).pipe(Effect.andThen(Effect.ignore(take))))
    )
  })

export interface Options {
  /** Longest a cached generation is trusted without a notice (default 1000 ms). */
  readonly maxAgeMs?: number
}

export class ReadModel extends Context.Service<
  ReadModel,
  {
    readonly maxAgeMs: number
    /** The generation to read `name` from now; cached, refreshed by switch notices. */
    readonly current: (name: string) => Effect.Effect<number, RedisError>
    /** The key of a customer's document of `name` in the current generation. */
    readonly documentKey: (name: string, customerId: string) => Effect.Effect<string, RedisError>
    /** The same, synchronously, while the generation is cached and fresh; undefined means "ask `documentKey`". */
    readonly cachedDocumentKey: (name: string, customerId: string) => string | undefined
    /** Completes at the next switch notice for `name`, or after `timeoutMs`. */
    readonly changed: (name: string, timeoutMs: number) => Effect.Effect<void>
  }
>()("@bank/platform/ReadModel") {}

export const make = (options: Options = {}) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const topology = yield* RedisTopology
    const maxAgeMs = options.maxAgeMs ?? 1000
    const cache = new Map<string, { readonly generation: number; readonly at: number }>()
    const waiters = new Map<string, Set<() => void>>()

    const noticed = (message: string) => {
      const [name, value] = message.split(" ")
      if (!name) return
      cache.set(name, { generation: parseGeneration(value), at: Date.now() })
      const waiting = waiters.get(name)
      waiters.delete(name)
      waiting?.forEach((wake) => wake())
    }

    // A subscriber of its own (a subscribed connection takes no other commands), moving to
    // another node when its node dies. Until it is there, readers see a switch within maxAgeMs.
    yield* topology.subscribe(channel, noticed)

    const current = (name: string) =>
      Effect.suspend(() => {
        const cached = cache.get(name)
        if (cached && Date.now() - cached.at < maxAgeMs) return Effect.succeed(cached.generation)
        const askedAt = Date.now()
        return generation(name).pipe(
          Effect.provideService(Redis, redis),
          Effect.tap((fresh) =>
            Effect.sync(() => {
              // A notice that arrived while we asked is newer than our answer.
              if ((cache.get(name)?.at ?? 0) <= askedAt) cache.set(name, { generation: fresh, at: askedAt })
            })
          )
        )
      })

    const changed = (name: string, timeoutMs: number) =>
      Effect.callback<void>((resume) => {
        const wake = () => resume(Effect.void)
        const set = waiters.get(name) ?? new Set()
        set.add(wake)
        waiters.set(name, set)
        return Effect.sync(() => void waiters.get(name)?.delete(wake))
      }).pipe(Effect.timeoutOption(timeoutMs), Effect.asVoid)

    return ReadModel.of({
      maxAgeMs,
      current,
      documentKey: (name, customerId) => Effect.map(current(name), (g) => documentKey(name, g, customerId)),
      cachedDocumentKey: (name, customerId) => {
        const cached = cache.get(name)
        return cached && Date.now() - cached.at < maxAgeMs
          ? documentKey(name, cached.generation, customerId)
          : undefined
      },
      changed
    })
  })

/** Needs `Redis` and `RedisTopology` (RedisClient.layer). */
export const layer = (options: Options = {}) => Layer.effect(ReadModel, make(options))

/**
 * Runs `start(generation)` for the generation the pointer names, in a scope of its own, and
 * whenever the pointer moves, closes that scope (the old consumers stop gracefully) and starts
 * the new generation. Runs in the background of the current scope.
 */
export const follow = <E, R>(name: string, start: (generation: number) => Effect.Effect<void, E, R | Scope.Scope>) =>
  Effect.gen(function* () {
    const readModel = yield* ReadModel
    const outer = yield* Effect.scope
    let running: { readonly generation: number; readonly scope: Scope.Closeable } | undefined
    const log = Effect.annotateLogs({ readModel: name })

    const switchTo = (next: number) =>
      Effect.gen(function* () {
        if (running) {
          yield* Scope.close(running.scope, Exit.void)
          yield* Effect.logInfo("stopped the old generation's projector", { generation: running.generation }).pipe(log)
          running = undefined
        }
        const scope = yield* Scope.fork(outer)
        const started = yield* Effect.exit(start(next).pipe(Scope.provide(scope)))
        if (started._tag === "Failure") {
          yield* Scope.close(scope, Exit.void)
          return yield* Effect.failCause(started.cause)
        }
        running = { generation: next, scope }
        yield* Effect.logInfo("projecting generation", { generation: next }).pipe(log)
      })

    const step = Effect.gen(function* () {
      const wanted = yield* readModel.current(name)
      if (wanted !== running?.generation) yield* switchTo(wanted)
    }).pipe(
      Effect.catchCause((cause) =>
        Effect.logWarning("could not follow the read model's generation; retrying", cause).pipe(log)
      )
    )

    yield* step
    yield* Effect.forkScoped(Effect.forever(readModel.changed(name, readModel.maxAgeMs).pipe(Effect.andThen(step))))
  })
