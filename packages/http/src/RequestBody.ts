// Typed request bodies for Effect routes:
//
//   app.post("/v1/transfers", (c) => run(c, Effect.gen(function*() {
//     const transfer = yield* decodeBody(c, Transfer)   // Transfer: an effect/Schema
//     ...
//   })))
//
// Wrong content type → 415, not JSON → 400, JSON that does not match the schema → 400 naming
// every bad field (`errors: [{ path, message }]`). The size limit is enforced before any of this,
// by the body-limit middleware in App.ts.
import { Effect, Schema, SchemaIssue } from "effect"
import type { Context } from "hono"
import { firstDuplicateKey } from "./DuplicateKeys.ts"
import { DuplicateKey, InvalidBody, MalformedBody, UnsupportedMediaType, type FieldError } from "./HttpErrors.ts"

// application/json, or a structured-syntax JSON type such as application/merge-patch+json, in
// UTF-8: JSON's only encoding (RFC 8259), so any other declared charset is refused rather than
// read as UTF-8.
const isJson = (contentType: string | undefined): boolean => {
  const [type, ...parameters] = (contentType ?? "").split(";")
  const mediaType = type?.trim().toLowerCase()
  if (mediaType === undefined || !/^application\/([a-z0-9.+-]+\+)?json$/.test(mediaType)) return false
  return parameters.every((p) => {
    const [name, value] = p.split("=").map((x) => x.trim().toLowerCase())
    return name !== "charset" || value?.replace(/^"(.*)"$/, "$1") === "utf-8"
  })
}

// RFC 6901: "~" and "/" inside a segment are escaped as "~0" and "~1".
const jsonPointer = (path: ReadonlyArray<unknown>): string =>
  path.map((segment) => `/${String(segment).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("")

// Messages do not quote the input (no `reportInput`): a bad value may be a secret.
const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

export const fieldErrors = (issue: SchemaIssue.Issue): ReadonlyArray<FieldError> =>
  formatter(issue).issues.map((i) => ({
    path: jsonPointer((i.path ?? []).map((p) => (typeof p === "object" && p !== null && "key" in p ? p.key : p))),
    message: i.message
  }))

/** Reads the request body as JSON and decodes it with `schema`, reporting every bad field. */
export const decodeBody = <S extends Schema.Top>(
  c: Context,
  schema: S
): Effect.Effect<S["Type"], UnsupportedMediaType | MalformedBody | DuplicateKey | InvalidBody, S["DecodingServices"]> =>
  Effect.gen(function* () {
    const contentType = c.req.header("Content-Type")
    if (!isJson(contentType)) {
      return yield* new UnsupportedMediaType(contentType === undefined ? {} : { contentType })
    }
    const text = yield* Effect.tryPromise({ try: () => c.req.text(), catch: (cause) => new MalformedBody({ cause }) })
    const json = yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      catch: (cause) => new MalformedBody({ cause })
    })
    const duplicated = firstDuplicateKey(text)
    if (duplicated !== undefined) return yield* new DuplicateKey({ path: duplicated })
    return yield* Schema.decodeUnknownEffect(schema)(json, { errors: "all" }).pipe(
      Effect.mapError((error) => new InvalidBody({ errors: fieldErrors(error.issue) }))
    )
  })
