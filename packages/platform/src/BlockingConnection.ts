// A reserved Redis connection for blocking reads (XREADGROUP/XREAD BLOCK), which must not share
// the connection every other command uses. Reserved connections do not reconnect by themselves,
// so this one is replaced after any failure: when Redis restarts, the next read reserves a new
// connection and the actor or reply reader carries on.
import { Effect, Exit, Scope } from "effect"
import { Redis, type RedisError } from "effect/persistence/Redis"

export interface BlockingConnection {
  readonly send: <A = unknown>(command: string, ...args: ReadonlyArray<string>) => Effect.Effect<A, RedisError>
}

/** Lives as long as the current scope; each failure closes the connection it happened on. */
export const make: Effect.Effect<BlockingConnection, never, Redis | Scope.Scope> = Effect.gen(function* () {
  const redis = yield* Redis
  // Forked now, not at the first read: the connections close after every finalizer their user
  // adds later (an actor's stop step marks it stopping before its blocked read is cut short).
  const owner = yield* Scope.fork(yield* Effect.scope)
  let current: { readonly send: BlockingConnection["send"]; readonly scope: Scope.Closeable } | undefined

  const acquire = Effect.suspend(() => {
    if (current) return Effect.succeed(current)
    return Effect.gen(function* () {
      const scope = yield* Scope.fork(owner)
      const connection = yield* redis.reserve.pipe(
        Scope.provide(scope),
        Effect.tapError(() => Scope.close(scope, Exit.void))
      )
      current = { send: connection.send, scope }
      return current
    })
  })

  const drop = Effect.suspend(() => {
    const dropped = current
    current = undefined
    return dropped ? Scope.close(dropped.scope, Exit.void) : Effect.void
  })

  return {
    send: <A>(command: string, ...args: ReadonlyArray<string>) =>
      acquire.pipe(
        Effect.flatMap((c) => c.send<A>(command, ...args)),
        Effect.tapError(() => drop)
      )
  }
})
