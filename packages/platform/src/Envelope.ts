// The one envelope every stream entry carries, and its codec. An entry is a flat field list
// (readable with XRANGE in redis-cli):
//   id    message id (UUID v7: unique, time-ordered)      type  the payload's `_tag`
//   v     schema version of that type                     at    occurredAt, ISO-8601
//   key   ordering key (e.g. the customer id)             corr  correlation id
//   cause causation id (the message that caused it)       tp/ts W3C traceparent / tracestate
//   reply reply stream for a request; dl deadline (epoch ms) after which nobody waits
//   data  the payload as JSON
// Decoding never drops anything silently: a failure is an `EnvelopeDecodeError` the actor
// runtime sends to the dead-letter stream.
import { Effect, Schema } from "effect"

import * as Trace from "./Trace.ts"
import { type AnyMessage, type StreamSpec, versionOf } from "./StreamSpec.ts"
import { uuidv7 } from "./Ids.ts"

export interface Envelope<A extends AnyMessage = AnyMessage> {
  readonly id: string
  readonly type: A["_tag"]
  readonly version: number
  readonly occurredAt: string
  readonly key: string
  readonly correlationId: string
  readonly causationId?: string | undefined
  readonly trace: Trace.TraceContext
  readonly replyTo?: string | undefined
  readonly deadline?: number | undefined
  readonly payload: A
}

/** An envelope as read from a stream: where it is and how often it was delivered. */
export interface Delivered<A extends AnyMessage = AnyMessage> extends Envelope<A> {
  readonly stream: string
  readonly entryId: string
  readonly deliveries: number
}

export class EnvelopeDecodeError extends Schema.TaggedError<EnvelopeDecodeError>()("EnvelopeDecodeError", {
  entryId: Schema.String,
  reason: Schema.Literals(["MalformedEnvelope", "UnknownType", "NewerVersion", "InvalidPayload"]),
  message: Schema.String
}) {}

/** What a publisher says about a new message; the rest is filled in. */
export interface Outgoing<A extends AnyMessage> {
  readonly payload: A
  readonly key: string
  /** The message this one answers or was caused by: correlation and trace carry over. */
  readonly causedBy?: Pick<Envelope, "id" | "correlationId" | "trace"> | undefined
  readonly correlationId?: string | undefined
  readonly replyTo?: string | undefined
  readonly deadline?: number | undefined
}

const Fields = Schema.Struct({
  id: Schema.NonEmptyString,
  type: Schema.NonEmptyString,
  v: Schema.NumberFromString.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(1)),
  at: Schema.NonEmptyString,
  key: Schema.String,
  corr: Schema.NonEmptyString,
  cause: Schema.optionalKey(Schema.String),
  tp: Schema.NonEmptyString,
  ts: Schema.optionalKey(Schema.String),
  reply: Schema.optionalKey(Schema.String),
  dl: Schema.optionalKey(Schema.NumberFromString),
  data: Schema.String
})

// Building a spec's JSON codec is far costlier than using it: once per spec, not per message.
const codecs = new WeakMap<StreamSpec<any>, Schema.Codec<any, string>>()
const payloadCodec = <A extends AnyMessage>(spec: StreamSpec<A>): Schema.Codec<A, string> => {
  let codec = codecs.get(spec)
  if (!codec) {
    codec = Schema.fromJsonString(Schema.toCodecJson(spec.schema))
    codecs.set(spec, codec)
  }
  return codec
}

/** Builds the envelope of a new message. */
export const make = <A extends AnyMessage>(spec: StreamSpec<A>, out: Outgoing<A>): Envelope<A> => {
  const id = uuidv7()
  return {
    id,
    type: out.payload._tag,
    version: versionOf(spec, out.payload._tag),
    occurredAt: new Date().toISOString(),
    key: out.key,
    correlationId: out.correlationId ?? out.causedBy?.correlationId ?? id,
    causationId: out.causedBy?.id,
    trace: Trace.child(out.causedBy?.trace),
    replyTo: out.replyTo,
    deadline: out.deadline,
    payload: out.payload
  }
}

const fieldList = (envelope: Envelope<AnyMessage>, data: string): Array<string> => {
  const fields: Array<string> = [
    "id",
    envelope.id,
    "type",
    envelope.type,
    "v",
    String(envelope.version),
    "at",
    envelope.occurredAt,
    "key",
    envelope.key,
    "corr",
    envelope.correlationId,
    "tp",
    envelope.trace.traceparent
  ]
  if (envelope.causationId !== undefined) fields.push("cause", envelope.causationId)
  if (envelope.trace.tracestate !== undefined) fields.push("ts", envelope.trace.tracestate)
  if (envelope.replyTo !== undefined) fields.push("reply", envelope.replyTo)
  if (envelope.deadline !== undefined) fields.push("dl", String(envelope.deadline))
  fields.push("data", data)
  return fields
}

/** The XADD field list of an envelope; fails when the payload does not fit its schema. */
export const encode = Effect.fn("Envelope.encode")(function* <A extends AnyMessage>(
  spec: StreamSpec<A>,
  envelope: Envelope<A>
) {
  return fieldList(envelope, yield* Schema.encodeEffect(payloadCodec(spec))(envelope.payload))
})

/**
 * The same as `encode`, synchronous, for hot paths whose payloads are built by the program
 * itself (the CDC connector): an invalid payload there is a bug, and throws.
 */
export const encoder = <A extends AnyMessage>(spec: StreamSpec<A>): ((envelope: Envelope<A>) => Array<string>) => {
  const data = Schema.encodeSync(payloadCodec(spec))
  return (envelope) => fieldList(envelope, data(envelope.payload))
}

/**
 * The same as `encoder` for specs whose payloads are plain JSON values as they are: strings,
 * finite numbers, booleans, null, arrays and objects of those, no bigint, Date or other value the
 * schema transforms (the CDC connector's rows are strings by construction). JSON.stringify in
 * place of the schema's encoding: ~1 µs instead of ~10 µs a message. Whoever uses it keeps a test
 * that its payloads come out as `encode` writes them (cdc StreamWriter.test.ts).
 */
export const plainJsonEncoder =
  <A extends AnyMessage>(_spec: StreamSpec<A>): ((envelope: Envelope<A>) => Array<string>) =>
  (envelope) =>
    fieldList(envelope, JSON.stringify(envelope.payload))

const toRecord = (fields: ReadonlyArray<string>): Record<string, string> => {
  const record: Record<string, string> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!
  return record
}

const nonEmpty = (x: string | undefined): x is string => x !== undefined && x !== ""
const plainNumber = /^-?\d+(\.\d+)?$/
const plainVersion = /^[1-9]\d{0,8}$/

/**
 * `Fields` decoded by hand for the usual well-formed entry (every consumer decodes every entry:
 * the schema's run costs several µs each); undefined when anything is off, and then the schema
 * decides and names what is wrong. Accepts exactly what `Fields` accepts.
 */
const fastFields = (r: Record<string, string>): typeof Fields.Type | undefined => {
  const { id, type, v, at, key, corr, cause, tp, ts, reply, dl, data } = r
  if (!nonEmpty(id) || !nonEmpty(type) || !nonEmpty(at) || !nonEmpty(corr) || !nonEmpty(tp)) return undefined
  if (key === undefined || data === undefined || v === undefined || !plainVersion.test(v)) return undefined
  if (dl !== undefined && !plainNumber.test(dl)) return undefined
  return {
    id,
    type,
    v: Number(v),
    at,
    key,
    corr,
    tp,
    data,
    ...(cause !== undefined ? { cause } : {}),
    ...(ts !== undefined ? { ts } : {}),
    ...(reply !== undefined ? { reply } : {}),
    ...(dl !== undefined ? { dl: Number(dl) } : {})
  }
}

const knownTypes = new WeakMap<StreamSpec<any>, ReadonlySet<string> | undefined>()
const typesOf = (spec: StreamSpec<any>): ReadonlySet<string> | undefined => {
  if (!knownTypes.has(spec)) {
    const ast = spec.schema.ast as { _tag: string; types?: ReadonlyArray<unknown> }
    // The literal `_tag` of each union member; undefined when the schema's shape is not a
    // plain union of tagged structs (then the payload decode alone decides).
    const members = ast._tag === "Union" ? (ast.types ?? []) : [ast]
    const tags = new Set<string>()
    for (const member of members) {
      const tagProp = (
        member as {
          propertySignatures?: ReadonlyArray<{ name: PropertyKey; type: { _tag: string; literal?: unknown } }>
        }
      ).propertySignatures?.find((p) => p.name === "_tag")
      if (tagProp?.type._tag === "Literal" && typeof tagProp.type.literal === "string") tags.add(tagProp.type.literal)
    }
    knownTypes.set(spec, tags.size > 0 ? tags : undefined)
  }
  return knownTypes.get(spec)
}

/** Decodes one stream entry; every failure names the entry and why. */
export const decode = <A extends AnyMessage>(
  spec: StreamSpec<A>,
  entryId: string,
  rawFields: ReadonlyArray<string>,
  deliveries: number
): Effect.Effect<Delivered<A>, EnvelopeDecodeError> =>
  Effect.gen(function* () {
    const fail = (reason: EnvelopeDecodeError["reason"], message: string) =>
      new EnvelopeDecodeError({ entryId, reason, message })
    const record = toRecord(rawFields)
    const f =
      fastFields(record) ??
      (yield* Schema.decodeUnknownEffect(Fields)(record).pipe(
        Effect.mapError((e) => fail("MalformedEnvelope", e.message))
      ))
    const types = typesOf(spec)
    if (types && !types.has(f.type)) return yield* fail("UnknownType", `unknown message type ${f.type} on ${spec.name}`)
    const known = versionOf(spec, f.type)
    if (f.v > known) {
      return yield* fail("NewerVersion", `${f.type} v${f.v} is newer than this reader's v${known}`)
    }
    const payload = yield* Schema.decodeUnknownEffect(payloadCodec(spec))(f.data).pipe(
      Effect.mapError((e) => fail("InvalidPayload", e.message))
    )
    if (payload._tag !== f.type) return yield* fail("InvalidPayload", `type ${f.type} but payload is ${payload._tag}`)
    return {
      id: f.id,
      type: f.type,
      version: f.v,
      occurredAt: f.at,
      key: f.key,
      correlationId: f.corr,
      causationId: f.cause,
      trace: { traceparent: f.tp, tracestate: f.ts },
      replyTo: f.reply,
      deadline: f.dl,
      payload,
      stream: spec.name,
      entryId,
      deliveries
    }
  })
