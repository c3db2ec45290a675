// The dead-letter tools of scripts/dlq.ts over HTTP, for the bank's staff (role `admin`; mounted
// behind the token check). Redrive and purge are recorded on the audit trail with who did it.
//   GET  /v1/admin/dead-letters                     every stream with dead letters, and how many
//   GET  /v1/admin/dead-letters/{stream}            ?group=&from=&to=&count= the dead letters
//   POST /v1/admin/dead-letters/{stream}/redrive    {ids} or {from, to} (+ group): outcomes
//   POST /v1/admin/dead-letters/{stream}/purge      {ids} or {from, to} (+ group), or {all: true}
// A purge must name what it deletes: an empty body deletes nothing (400).
import { Audit } from "@bank/identity"
import { DeadLetters, type RedisTopology, type StreamLog } from "@bank/platform"
import { Effect, Schema } from "effect"
import type { Redis } from "effect/persistence/Redis"
import {
  decodeBody,
  fieldErrors,
  InvalidQuery,
  type Operation,
  operation,
  principalWithRole,
  type Routes
} from "@bank/http"

const StreamName = Schema.String.check(Schema.isPattern(/^[a-z0-9][a-z0-9._-]{0,99}$/))
const EntryId = Schema.String.check(Schema.isPattern(/^(\d+)(-\d+)?$/))
const Range = {
  group: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(100))),
  from: Schema.optionalKey(EntryId),
  to: Schema.optionalKey(EntryId)
}
const ListQuery = Schema.Struct({
  stream: StreamName,
  ...Range,
  count: Schema.optionalKey(
    Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 1000 }))
  )
})
const Action = Schema.Struct({
  ...Range,
  ids: Schema.optionalKey(Schema.Array(EntryId).check(Schema.isMinLength(1), Schema.isMaxLength(1000))),
  all: Schema.optionalKey(Schema.Literal(true))
})

const decodeQuery = <S extends Schema.Decoder<unknown>>(schema: S, input: unknown) =>
  Schema.decodeUnknownEffect(schema)(input, { errors: "all" }).pipe(
    Effect.mapError((error) => new InvalidQuery({ errors: fieldErrors(error.issue) }))
  )

const selectionOf = (stream: string, body: typeof Action.Type, count: number): DeadLetters.Selection => ({
  stream,
  count,
  ...(body.group !== undefined ? { group: body.group } : {}),
  ...(body.from !== undefined ? { from: body.from } : {}),
  ...(body.to !== undefined ? { to: body.to } : {}),
  ...(body.ids !== undefined ? { ids: body.ids } : {})
})

const namesSomething = (body: typeof Action.Type) =>
  body.ids !== undefined ||
  body.from !== undefined ||
  body.to !== undefined ||
  body.group !== undefined ||
  body.all === true

export const deadLetterRoutes: Routes<Redis | RedisTopology.RedisTopology | StreamLog.StreamLog> = (app, run) => {
  app.get("/v1/admin/dead-letters", (c) =>
    run(
      c,
      Effect.gen(function* () {
        yield* principalWithRole(c, "admin")
        return c.json({ streams: yield* DeadLetters.streams() })
      })
    )
  )

  app.get("/v1/admin/dead-letters/:stream", (c) =>
    run(
      c,
      Effect.gen(function* () {
        yield* principalWithRole(c, "admin")
        const query = yield* decodeQuery(ListQuery, { ...c.req.query(), stream: c.req.param("stream") })
        const { count = 100, ...selection } = query
        return c.json({ deadLetters: yield* DeadLetters.list({ ...selection, count }) })
      })
    )
  )

  const action = (name: "redrive" | "purge") =>
    app.post(`/v1/admin/dead-letters/:stream/${name}`, (c) =>
      run(
        c,
        Effect.gen(function* () {
          const admin = yield* principalWithRole(c, "admin")
          const { stream } = yield* decodeQuery(Schema.Struct({ stream: StreamName }), {
            stream: c.req.param("stream")
          })
          const body = yield* decodeBody(c, Action)
          if (!namesSomething(body)) {
            return yield* new InvalidQuery({
              errors: [{ path: "", message: "name the dead letters: ids, from/to, group, or all: true" }]
            })
          }
          const selection = selectionOf(stream, body, 1000)
          const audit = (ids: ReadonlyArray<string>) =>
            Audit.record({
              _tag: "DeadLettersHandled",
              customerId: admin.customerId,
              action: name,
              stream,
              count: ids.length,
              ids: ids.slice(0, 100)
            })
          if (name === "purge") {
            const purged = yield* DeadLetters.purge(selection)
            yield* audit(purged)
            return c.json({ purged })
          }
          const outcomes = yield* DeadLetters.redrive(selection, { timeoutMs: 10_000 })
          yield* audit(outcomes.map((o) => o.id))
          return c.json({ outcomes })
        })
      )
    )
  action("redrive")
  action("purge")
}

const streamParam = {
  name: "stream",
  in: "path" as const,
  required: true,
  description: "The stream whose dead letters these are.",
  schema: StreamName
}
const adminProblems = ["Forbidden", "InvalidQuery"]

/** The routes above as the OpenAPI document describes them. */
export const deadLetterOperations: ReadonlyArray<Operation> = [
  operation({
    method: "get",
    path: "/v1/admin/dead-letters",
    operationId: "listDeadLetterStreams",
    tag: "Administration",
    summary: "Every stream with dead letters, and how many (role admin)",
    responses: {
      200: { description: "The streams.", schema: Schema.Struct({ streams: Schema.Array(Schema.Unknown) }) }
    },
    problems: adminProblems
  }),
  operation({
    method: "get",
    path: "/v1/admin/dead-letters/{stream}",
    operationId: "listDeadLetters",
    tag: "Administration",
    summary: "A stream's dead letters (role admin)",
    parameters: [
      streamParam,
      { name: "group", in: "query", description: "Only this consumer group's." },
      { name: "from", in: "query", description: "From this entry id." },
      { name: "to", in: "query", description: "Up to this entry id." },
      { name: "count", in: "query", description: "At most this many, 1-1000 (default 100)." }
    ],
    responses: {
      200: { description: "The dead letters.", schema: Schema.Struct({ deadLetters: Schema.Array(Schema.Unknown) }) }
    },
    problems: adminProblems
  }),
  ...(["redrive", "purge"] as const).map((name) =>
    operation({
      method: "post",
      path: `/v1/admin/dead-letters/{stream}/${name}`,
      operationId: `${name}DeadLetters`,
      tag: "Administration",
      summary:
        name === "redrive"
          ? "Send dead letters back to their stream (role admin)"
          : "Delete dead letters; name what (role admin)",
      parameters: [streamParam],
      requestBody: Action,
      responses: {
        200: {
          description: name === "redrive" ? "What happened to each." : "The ids deleted.",
          schema:
            name === "redrive"
              ? Schema.Struct({ outcomes: Schema.Array(Schema.Unknown) })
              : Schema.Struct({ purged: Schema.Array(Schema.String) })
        }
      },
      problems: [...adminProblems, "InvalidBody", "MalformedBody", "UnsupportedMediaType", "PayloadTooLarge"]
    })
  )
]
