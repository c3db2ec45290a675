// Read-your-writes (docs/api.md). A write answers a `Consistency-Token` header naming what a read
// model must reflect for the write to show; a read that gets the token back waits, bounded,
// until its document reflects it. The token is opaque to clients: base64url of a small JSON
// value `{ v: 1, k: <kind>, ... }`, where each capability defines its own kinds and what
// "reflects" means for them. A reader ignores kinds it does not know (a transfer's token on the
// profile: nothing to wait for). No Redis here: the reader passes its own check.
import { Effect, Option, Schema } from "effect"
import type { Context } from "hono"
import { InvalidConsistencyToken, NotYetConsistent } from "./HttpErrors.ts"

export const header = "Consistency-Token"

/** What a token says: its kind and the kind's own fields. */
export interface Claim {
  readonly k: string
  readonly [field: string]: unknown
}

/** The largest token accepted; a profile change carries its values, the rest are short. */
const MAX_LENGTH = 4096

export const encode = (claim: Claim): string => Buffer.from(JSON.stringify({ v: 1, ...claim })).toString("base64url")

/** The request's token: none, a claim, or InvalidConsistencyToken. */
export const fromRequest = (c: Context): Effect.Effect<Option.Option<Claim>, InvalidConsistencyToken> => {
  const text = c.req.header(header)
  if (text === undefined) return Effect.succeed(Option.none())
  if (text.length > MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return Effect.fail(new InvalidConsistencyToken())
  try {
    const value: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"))
    if (
      typeof value === "object" &&
      value !== null &&
      (value as { v?: unknown }).v === 1 &&
      typeof (value as { k?: unknown }).k === "string"
    ) {
      return Effect.succeed(Option.some(value as Claim))
    }
  } catch {
    // Falls through: not a token we issued.
  }
  return Effect.fail(new InvalidConsistencyToken())
}

/** Decodes a claim's fields with `schema`; a token of the right kind but wrong shape is invalid. */
export const fields = <S extends Schema.Codec<any, any>>(
  claim: Claim,
  schema: S
): Effect.Effect<S["Type"], InvalidConsistencyToken> =>
  Schema.decodeUnknownEffect(schema)(claim).pipe(Effect.mapError(() => new InvalidConsistencyToken())) as Effect.Effect<
    S["Type"],
    InvalidConsistencyToken
  >

export interface WaitOptions {
  /** The longest wait before 503 (default 10 s). */
  readonly timeoutMs?: number | undefined
  /** Between two looks at the document (default 25 ms). */
  readonly intervalMs?: number | undefined
}

export const defaultWaitMs = 10_000

/**
 * Runs `look` until it finds what it waits for (Some), at most `timeoutMs`; then fails with
 * NotYetConsistent and sets `Retry-After` on `c`, so the client is never given an older
 * document silently.
 */
export const waitFor = <A, E, R>(
  c: Context,
  look: Effect.Effect<Option.Option<A>, E, R>,
  options: WaitOptions = {}
): Effect.Effect<A, E | NotYetConsistent, R> =>
  Effect.gen(function* () {
    const deadline = Date.now() + (options.timeoutMs ?? defaultWaitMs)
    const interval = options.intervalMs ?? 25
    while (true) {
      const found = yield* look
      if (Option.isSome(found)) return found.value
      if (Date.now() >= deadline) {
        c.header("Retry-After", "1")
        return yield* new NotYetConsistent({ retryAfterSeconds: 1 })
      }
      yield* Effect.sleep(interval)
    }
  })
