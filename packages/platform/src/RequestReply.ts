// Request/reply over streams, for the few calls that need an answer (the edge asking the
// identity actor to log a user in). Each requesting process owns one reply stream
// (`replies:{r:<instance>}`); a request carries it in `reply`, plus a deadline. The responder
// is an ordinary actor: it skips requests whose deadline passed (nobody waits for them any
// more) and appends its answer to the reply stream, caused by the request. The requester
// waits with a timeout that becomes a `RequestTimeout` error; a reply arriving after that is
// ignored, and shutdown fails every waiting request, so no caller waits forever.
import { Context, Deferred, Effect, Layer, Schema } from "effect"
import { Redis } from "effect/persistence/Redis"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import * as Actor from "./Actor.ts"
import * as BlockingConnection from "./BlockingConnection.ts"
import * as Envelope from "./Envelope.ts"
import * as Keys from "./Keys.ts"
import { StreamLog, PublishError, type RawEntry } from "./StreamLog.ts"
import type { AnyMessage, StreamSpec } from "./StreamSpec.ts"

export interface RequestSpec<Req extends AnyMessage, Res extends AnyMessage> {
  readonly requests: StreamSpec<Req>
  /** The reply schema; its `name` only labels logs, replies go to the requester's own stream. */
  readonly replies: StreamSpec<Res>
}

export class RequestTimeout extends Schema.TaggedError<RequestTimeout>()("RequestTimeout", {
  stream: Schema.String,
  type: Schema.String,
  timeoutMs: Schema.Number,
  message: Schema.String
}) {}

export class RequestFailed extends Schema.TaggedError<RequestFailed>()("RequestFailed", {
  stream: Schema.String,
  reason: Schema.Literals(["InvalidReply", "ShuttingDown", "Unavailable"]),
  message: Schema.String
}) {}

/** How long an unread reply stream lives after its last reply (its owner may have died). */
const REPLY_STREAM_TTL_MS = 10 * 60 * 1000

export class Requester extends Context.Service<
  Requester,
  {
    readonly instanceId: string
    readonly request: <Req extends AnyMessage, Res extends AnyMessage>(
      spec: RequestSpec<Req, Res>,
      out: Envelope.Outgoing<Req>,
      options: { readonly timeoutMs: number }
    ) => Effect.Effect<Res, RequestTimeout | RequestFailed>
  }
>()("@bank/platform/Requester") {}

export const makeRequester = Effect.gen(function* () {
  const redis = yield* Redis
  const log = yield* StreamLog
  const instanceId = `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`
  const inbox = Keys.replies(instanceId)
  const waiting = new Map<string, Deferred.Deferred<RawEntry, RequestFailed>>()

  const connection = yield* BlockingConnection.make
  let lastId = "0-0"
  const readReplies = Effect.suspend(() =>
    connection.send<Array<[string, Array<RawEntry>]> | null>(
      "XREAD",
      "COUNT",
      "500",
      "BLOCK",
      "5000",
      "STREAMS",
      inbox,
      lastId
    )
  ).pipe(
    Effect.flatMap((reply) =>
      Effect.gen(function* () {
        const entries = reply?.[0]?.[1] ?? []
        for (const [entryId, fields] of entries) {
          lastId = entryId
          const at = fields.indexOf("cause")
          const waiter = at >= 0 && at % 2 === 0 ? waiting.get(fields[at + 1]!) : undefined
          // A reply nobody waits for any more (its request timed out) is dropped here.
          if (waiter) yield* Deferred.succeed(waiter, [entryId, fields] as const)
        }
        if (entries.length > 0) yield* redis.send("XTRIM", inbox, "MINID", lastId)
      })
    )
  )
  yield* readReplies.pipe(
    Effect.catchCause((cause) =>
      Effect.logWarning("reply reader failed; retrying", cause).pipe(Effect.andThen(Effect.sleep(200)))
    ),
    Effect.forever,
    Effect.forkScoped
  )
  yield* Effect.addFinalizer(() =>
    Effect.gen(function* () {
      for (const waiter of waiting.values()) {
        yield* Deferred.fail(
          waiter,
          new RequestFailed({ stream: inbox, reason: "ShuttingDown", message: "the process is shutting down" })
        )
      }
      yield* redis.send("DEL", inbox).pipe(Effect.ignore)
    })
  )

  const request = <Req extends AnyMessage, Res extends AnyMessage>(
    spec: RequestSpec<Req, Res>,
    out: Envelope.Outgoing<Req>,
    options: { readonly timeoutMs: number }
  ) =>
    Effect.gen(function* () {
      const envelope = Envelope.make(spec.requests, {
        ...out,
        replyTo: inbox,
        deadline: Date.now() + options.timeoutMs
      })
      const waiter = yield* Deferred.make<RawEntry, RequestFailed>()
      waiting.set(envelope.id, waiter)
      return yield* Effect.gen(function* () {
        yield* log
          .append(spec.requests, envelope)
          .pipe(
            Effect.mapError(
              (e: PublishError) =>
                new RequestFailed({ stream: spec.requests.name, reason: "Unavailable", message: e.message })
            )
          )
        const [entryId, fields] = yield* Deferred.await(waiter).pipe(
          Effect.timeoutOrElse({
            duration: options.timeoutMs,
            orElse: () =>
              Effect.fail(
                new RequestTimeout({
                  stream: spec.requests.name,
                  type: envelope.type,
                  timeoutMs: options.timeoutMs,
                  message: `no reply to ${envelope.type} within ${options.timeoutMs} ms`
                })
              )
          })
        )
        const reply = yield* Envelope.decode(spec.replies, entryId, fields, 1).pipe(
          Effect.mapError(
            (e) => new RequestFailed({ stream: spec.requests.name, reason: "InvalidReply", message: e.message })
          )
        )
        return reply.payload
      }).pipe(Effect.ensuring(Effect.sync(() => waiting.delete(envelope.id))))
    }).pipe(
      Effect.withSpan("Requester.request", { attributes: { stream: spec.requests.name, type: out.payload._tag } })
    )

  return Requester.of({ instanceId, request })
})

export const layerRequester = Layer.effect(Requester, makeRequester)

export interface ResponderOptions<Req extends AnyMessage, Res extends AnyMessage, E, R>
  extends Omit<Actor.ActorOptions<Req, E, R>, "stream" | "handle"> {
  readonly spec: RequestSpec<Req, Res>
  readonly handle: (request: Envelope.Delivered<Req>) => Effect.Effect<Res, E, R>
}

/** An actor that answers requests on `spec.requests`. */
export const respond = <Req extends AnyMessage, Res extends AnyMessage, E, R>(
  options: ResponderOptions<Req, Res, E, R>
) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const log = yield* StreamLog
    const { spec, handle, ...actorOptions } = options
    return yield* Actor.run({
      ...actorOptions,
      stream: spec.requests,
      // Requests are independent: no per-customer ordering needed, so spread them out, and keep
      // reading while earlier batches are still being answered.
      orderingKey: actorOptions.orderingKey ?? ((m) => m.id),
      pipeline: actorOptions.pipeline ?? 4,
      handle: (request) =>
        Effect.gen(function* () {
          if (request.deadline !== undefined && request.deadline < Date.now()) {
            yield* Effect.logInfo("request expired before it was handled; nobody waits for it", {
              type: request.type,
              id: request.id
            })
            return
          }
          const answer = yield* handle(request)
          if (request.replyTo === undefined) return
          const inbox = request.replyTo
          if (!inbox.startsWith("replies:{r:")) {
            return yield* Effect.logWarning("request names a reply stream outside replies:*; not answered", {
              inbox,
              id: request.id
            })
          }
          yield* log.append(
            spec.replies,
            Envelope.make(spec.replies, { payload: answer, key: request.key, causedBy: request }),
            inbox
          )
          yield* redis.send("PEXPIRE", inbox, String(REPLY_STREAM_TTL_MS))
        })
    })
  })
