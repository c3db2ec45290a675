// Stream contracts and helpers used by the platform's own tests (and the crash fixture).
import { Effect, Layer, Schema } from "effect"
import * as RedisClient from "../RedisClient.ts"
import * as StreamLog from "../StreamLog.ts"
import * as StreamSpec from "../StreamSpec.ts"

export const Counted = Schema.TaggedStruct("Counted", { seq: Schema.Int, poison: Schema.optional(Schema.Boolean) })
export const Ping = Schema.TaggedStruct("Ping", { text: Schema.String })
export const Pong = Schema.TaggedStruct("Pong", { text: Schema.String, by: Schema.String })

export const counted = (name: string) => StreamSpec.define({ name, schema: Counted })
export const pingSpec = (name: string) => ({
  requests: StreamSpec.define({ name, schema: Ping }),
  replies: StreamSpec.define({ name: `${name}.replies`, schema: Pong })
})

export const layer = (url: string) => StreamLog.layer.pipe(Layer.provideMerge(RedisClient.layer(url)))

export const runWith = <A, E>(url: string, program: Effect.Effect<A, E, any>): Promise<A> =>
  Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(layer(url))) as Effect.Effect<A, E, never>)
