// The OpenAPI 3.1 document, built from the capabilities' Operations (Operations.ts): every
// request body, parameter and response schema is the JSON Schema (draft 2020-12, which OpenAPI
// 3.1 uses as is) that effect's Schema.toJsonSchemaDocument derives from the Schema the route
// decodes with or whose shape it serves. Named schemas (an `identifier` annotation) become
// components; problem responses come from the problem table (ErrorTable.ts), so a route's
// possible problems, their statuses and their documentation URLs are the ones it really sends
// (the kit's table merged with every capability's, as the edge mounts them).
import { Schema } from "effect"
import { kitProblems, type ProblemTable } from "./ErrorTable.ts"
import type { Operation, ResponseSpec } from "./Operations.ts"
import { problemTypeUri } from "./ProblemDetails.ts"
import { Problem } from "./ApiSchemas.ts"

type Json = Record<string, unknown>

export interface ProblemType {
  readonly slug: string
  readonly uri: string
  readonly title: string
  readonly statuses: ReadonlyArray<number>
  /** The error tags that answer it. */
  readonly tags: ReadonlyArray<string>
  readonly detail: string | undefined
}

const kebab = (tag: string) => tag.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()

// Entries whose status depends on the error are the infrastructure ones: 503 when a retry can
// help, 500 when it cannot.
const statusesOf = (status: number | ((e: never) => number)): ReadonlyArray<number> =>
  typeof status === "number" ? [status] : [503, 500]

/** Every problem type the API can answer, one per slug, from the problem tables. */
export const problemTypes = (problems: ProblemTable = {}): ReadonlyArray<ProblemType> => {
  const bySlug = new Map<
    string,
    { title: string; statuses: Set<number>; tags: Array<string>; detail: string | undefined }
  >()
  for (const [tag, entry] of Object.entries({ ...kitProblems, ...problems }) as Array<
    [string, { type?: string; status: number | ((e: never) => number); title: string; detail: unknown }]
  >) {
    const slug = entry.type ?? kebab(tag)
    const found = bySlug.get(slug) ?? {
      title: entry.title,
      statuses: new Set<number>(),
      tags: [],
      detail: typeof entry.detail === "string" ? entry.detail : undefined
    }
    for (const s of statusesOf(entry.status)) found.statuses.add(s)
    found.tags.push(tag)
    bySlug.set(slug, found)
  }
  // The kit's own problems, answered outside the table (ProblemDetails.ts, App.ts, Health.ts).
  bySlug.set("internal-error", {
    title: "Internal server error",
    statuses: new Set([500]),
    tags: [],
    detail: "Something went wrong on our side; the detail quotes the request id to report."
  })
  bySlug.set("request-rejected", {
    title: "Request rejected",
    statuses: new Set([400]),
    tags: [],
    detail: "A middleware refused the request."
  })
  bySlug.set("not-ready", {
    title: "Not ready",
    statuses: new Set([503]),
    tags: [],
    detail: "Readiness: a dependency (Redis or PostgreSQL) does not answer; `checks` says which."
  })
  return [...bySlug].map(([slug, p]) => ({
    slug,
    uri: problemTypeUri(slug),
    title: p.title,
    statuses: [...p.statuses].sort(),
    tags: p.tags,
    detail: p.detail
  }))
}

/**
 * Compiles schemas to JSON Schema all at once, so named schemas (and the numbered variants
 * effect gives two different schemas of one name) are components with one meaning each:
 * `compile` answers a placeholder, `resolve` swaps in the compiled schemas.
 */
const schemaCompiler = () => {
  const schemas: Array<Schema.Top> = []
  const compile = (schema: Schema.Top): Json => {
    let i = schemas.indexOf(schema)
    if (i < 0) i = schemas.push(schema) - 1
    return { $placeholder: i }
  }
  const resolve = <A>(value: A): { readonly value: A; readonly components: Record<string, Json> } => {
    const document = Schema.toJsonSchemaDocument(
      Schema.Struct(Object.fromEntries(schemas.map((s, i) => [`s${i}`, s]))) as never
    )
    const compiled = (document.schema as { properties: Record<string, Json> }).properties
    const swap = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(swap)
      if (v !== null && typeof v === "object") {
        if ("$placeholder" in v) return swap(compiled[`s${(v as { $placeholder: number }).$placeholder}`])
        return Object.fromEntries(
          Object.entries(v).map(([k, x]) => [
            k,
            k === "$ref" && typeof x === "string" ? x.replace("#/$defs/", "#/components/schemas/") : swap(x)
          ])
        )
      }
      return v
    }
    return { value: swap(value) as A, components: swap(document.definitions) as Record<string, Json> }
  }
  return { compile, resolve }
}

export interface DocumentOptions {
  readonly title: string
  readonly version: string
  readonly description: string
  readonly operations: ReadonlyArray<Operation>
  /** Every capability's problem table, merged (the kit's is always included). */
  readonly problems: ProblemTable
}

const unavailableTags: ReadonlyArray<string> = ["RedisError", "DocumentStoreError"]

export const build = (options: DocumentOptions): Json => {
  const { compile, resolve } = schemaCompiler()
  const problemRef = compile(Problem)
  const types = problemTypes(options.problems)
  const typeOfTag = new Map(types.flatMap((t) => t.tags.map((tag) => [tag, t] as const)))

  const response = (spec: ResponseSpec): Json => ({
    description: spec.description,
    ...(spec.headers
      ? {
          headers: Object.fromEntries(
            Object.entries(spec.headers).map(([name, h]) => [
              name,
              { description: h.description, schema: h.schema ? compile(h.schema) : { type: "string" } }
            ])
          )
        }
      : {}),
    ...(spec.schema ? { content: { [spec.contentType ?? "application/json"]: { schema: compile(spec.schema) } } } : {})
  })

  const paths: Record<string, Record<string, Json>> = {}
  for (const op of options.operations) {
    const authenticated = op.authenticated ?? op.path.startsWith("/v1/")
    const tags = [...(authenticated ? ["Unauthenticated" as const] : []), ...unavailableTags, ...(op.problems ?? [])]
    // Problem responses grouped by status, naming each type.
    const problems = new Map<number, Array<string>>()
    for (const tag of new Set(tags)) {
      const type = typeOfTag.get(tag)
      if (type === undefined) throw new Error(`${op.operationId}: problem ${tag} is in no problem table`)
      for (const status of type.statuses) {
        if (op.responses[status] !== undefined) continue
        const list = problems.get(status) ?? []
        if (!list.includes(type.uri)) list.push(type.uri)
        problems.set(status, list)
      }
    }
    const responses: Record<string, Json> = {}
    for (const [status, spec] of Object.entries(op.responses)) responses[status] = response(spec)
    for (const [status, uris] of [...problems].sort(([a], [b]) => a - b)) {
      responses[String(status)] = {
        description: `Problem: ${uris.map((u) => `[${types.find((t) => t.uri === u)!.title}](${u})`).join(", ")}.`,
        content: { "application/problem+json": { schema: problemRef } }
      }
    }
    responses.default = {
      description: "Any other problem ([all types](/docs/problems)).",
      content: { "application/problem+json": { schema: problemRef } }
    }
    const parameters = (op.parameters ?? []).map((p) => ({
      name: p.name,
      in: p.in,
      description: p.description,
      required: p.in === "path" ? true : (p.required ?? false),
      schema: p.schema ? compile(p.schema) : { type: "string" }
    }))
    paths[op.path] ??= {}
    paths[op.path]![op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: [op.tag],
      ...(authenticated ? {} : { security: [] }),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(op.requestBody
        ? { requestBody: { required: true, content: { "application/json": { schema: compile(op.requestBody) } } } }
        : {}),
      responses
    }
  }
  const { value: resolvedPaths, components } = resolve(paths)
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: { title: options.title, version: options.version, description: options.description },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    tags: [...new Set(options.operations.map((o) => o.tag))].map((name) => ({ name })),
    paths: resolvedPaths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "The accessToken of POST /v1/auth/login." }
      }
    },
    "x-problem-types": types.map((t) => ({ type: t.uri, title: t.title, statuses: t.statuses }))
  }
}
