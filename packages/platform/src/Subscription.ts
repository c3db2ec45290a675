// A pub/sub subscription that outlives its connection: when the node it listens on dies, it
// subscribes again on the next node that answers (any node of a cluster delivers classic
// pub/sub messages). Messages published while it moves are missed; every use of pub/sub here
// is an invalidation or wake-up backed by polling (ReadModel), never the only copy of a message.
import { Effect, type Scope } from "effect"
import { createClient } from "redis"

type ClientOptions = NonNullable<Parameters<typeof createClient>[0]>

export const resilientSubscription = (
  channel: string,
  onMessage: (message: string) => void,
  candidates: () => ReadonlyArray<ClientOptions>,
  warn: (message: string, cause: unknown) => void
): Effect.Effect<void, never, Scope.Scope> => {
  let turn = 0
  const once = Effect.acquireUseRelease(
    Effect.tryPromise(async () => {
      const options = candidates()
      const chosen = options[turn++ % Math.max(1, options.length)] ?? {}
      const client = createClient({
        ...chosen,
        socket: { ...chosen.socket, connectTimeout: 2000, reconnectStrategy: false } as never
      })
      client.on("error", () => {})
      try {
        await client.connect()
        await client.subscribe(channel, (message) => onMessage(message))
      } catch (cause) {
        if (client.isOpen) client.destroy()
        throw cause
      }
      return client
    }),
    // Until the connection ends (the node died or the scope closes).
    (client) =>
      Effect.callback<void>((resume) => {
        if (!client.isOpen) return resume(Effect.void)
        client.once("end", () => resume(Effect.void))
        client.once("error", () => resume(Effect.void))
      }),
    (client) => Effect.sync(() => client.isOpen && client.destroy())
  )
  return once.pipe(
    Effect.catchCause((cause) =>
      Effect.sync(() => warn(`subscription to ${channel} failed; subscribing again`, cause))
    ),
    Effect.andThen(Effect.sleep(250)),
    Effect.forever,
    Effect.forkScoped,
    Effect.asVoid
  )
}
