// A stream's contract: its name, the Schema of every message on it (a union of tagged
// structs: events past tense, commands imperative, `_tag` the message type), each type's
// schema version and how long the stream keeps entries. Capabilities share these specs
// (packages/contracts), never each other's code.
import { Schema } from "effect"

/** A message on a stream: a tagged struct. */
export type AnyMessage = { readonly _tag: string }

export interface Retention {
  /** Approximate upper bound on entries (XADD MAXLEN ~). */
  readonly maxLen?: number | undefined
  /** Approximate minimum age kept, in ms (XADD MINID ~ now-age). */
  readonly maxAgeMs?: number | undefined
}

export interface StreamSpec<A extends AnyMessage = AnyMessage> {
  readonly name: string
  readonly schema: Schema.Codec<A, any, never, never>
  /** Schema version of each message type; 1 where not listed. A reader refuses newer versions. */
  readonly versions?: { readonly [K in A["_tag"]]?: number }
  readonly retention?: Retention
}

export const define = <A extends AnyMessage>(spec: StreamSpec<A>): StreamSpec<A> => spec

export const versionOf = <A extends AnyMessage>(spec: StreamSpec<A>, tag: string): number =>
  (spec.versions as Record<string, number | undefined> | undefined)?.[tag] ?? 1

/** Default retention: a day of history or a million entries, whichever keeps more. */
export const defaultRetention: Retention = { maxLen: 1_000_000 }
