// Checks answers against the OpenAPI document, for tests: the operation (method and path
// template), the status (documented, or a problem under `default`), the media type, and the body
// against the response's JSON Schema with ajv's draft 2020-12 validator and its formats
// (date-time, date). test/support/validateResponses.ts wires it into every end-to-end suite.
import { Ajv2020 } from "ajv/dist/2020.js"
import addFormatsModule from "ajv-formats"
import type { ValidateFunction } from "ajv"

type Json = Record<string, any>

// ajv-formats is CommonJS: its default export arrives wrapped under some loaders.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => void

interface Route {
  readonly method: string
  readonly template: string
  readonly pattern: RegExp
  readonly operation: Json
}

export interface Verdict {
  readonly operation: string | undefined
  /** Empty when the answer matches the document. */
  readonly errors: ReadonlyArray<string>
}

export const compileDocument = (document: Json) => {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true })
  addFormats(ajv)
  const toDefs = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(toDefs)
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          k === "$ref" && typeof v === "string" ? v.replace("#/components/schemas/", "#/$defs/") : toDefs(v)
        ])
      )
    }
    return value
  }
  const defs = toDefs(document.components?.schemas ?? {}) as Json
  const cache = new Map<unknown, ValidateFunction>()
  const validatorOf = (schema: Json): ValidateFunction => {
    let validate = cache.get(schema)
    if (!validate) {
      validate = ajv.compile({ ...(toDefs(schema) as Json), $defs: defs })
      cache.set(schema, validate)
    }
    return validate
  }

  const routes: Array<Route> = []
  for (const [template, methods] of Object.entries(document.paths as Record<string, Record<string, Json>>)) {
    const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`)
    for (const [method, operation] of Object.entries(methods))
      routes.push({ method: method.toUpperCase(), template, pattern, operation })
  }
  // Literal paths before templated ones (`/docs/problems` before `/docs/problems/{slug}`).
  routes.sort((a, b) => Number(a.template.includes("{")) - Number(b.template.includes("{")))

  let schemaCount = 0
  for (const route of routes) {
    for (const response of Object.values(route.operation.responses as Record<string, Json>)) {
      for (const media of Object.values((response.content ?? {}) as Record<string, Json>)) {
        validatorOf(media.schema)
        schemaCount++
      }
    }
    const body = route.operation.requestBody?.content?.["application/json"]?.schema
    if (body) {
      validatorOf(body)
      schemaCount++
    }
  }
  const problemTypes = new Set(((document["x-problem-types"] ?? []) as Array<Json>).map((t) => t.type as string))

  /** Checks one answer; `body` is its text (undefined: not read, e.g. an event stream). */
  const check = (
    method: string,
    path: string,
    status: number,
    contentType: string | null,
    body: string | undefined
  ): Verdict => {
    const route = routes.find((r) => r.method === method && r.pattern.test(path))
    const media = contentType?.split(";")[0]?.trim().toLowerCase()
    if (!route) {
      // Unknown routes answer the not-found problem (401 first under /v1 without a valid token).
      const ok = (status === 404 || (status === 401 && path.startsWith("/v1/"))) && media === "application/problem+json"
      return {
        operation: undefined,
        errors: ok ? [] : [`${method} ${path} is not in the document (answered ${status})`]
      }
    }
    const name = `${method} ${route.template} → ${status}`
    const responses = route.operation.responses as Record<string, Json>
    const response = responses[String(status)] ?? responses.default
    if (!response) return { operation: name, errors: [`${name}: status not documented`] }
    const content = (response.content ?? {}) as Record<string, Json>
    if (Object.keys(content).length === 0) {
      return {
        operation: name,
        errors: body !== undefined && body !== "" ? [`${name}: documented without a body, but sent one`] : []
      }
    }
    if (media === undefined || content[media] === undefined) {
      return {
        operation: name,
        errors: [`${name}: media type ${media} not documented (${Object.keys(content).join(", ")})`]
      }
    }
    // Only JSON media (application/json, application/*+json) have a body schema to check; text,
    // images (image/svg+xml) and other files are checked up to their media type.
    if (body === undefined || !/^application\/([\w.-]+\+)?json$/.test(media)) return { operation: name, errors: [] }
    let value: unknown
    try {
      value = JSON.parse(body)
    } catch {
      return { operation: name, errors: [`${name}: the body is not JSON`] }
    }
    const validate = validatorOf(content[media].schema)
    const errors = validate(value)
      ? []
      : (validate.errors ?? []).map(
          (e) => `${name}: ${e.instancePath || "(body)"} ${e.message} ${JSON.stringify(e.params)}`
        )
    if (media === "application/problem+json" && !problemTypes.has((value as Json).type))
      errors.push(`${name}: problem type ${(value as Json).type} is not documented`)
    return { operation: name, errors }
  }

  return { check, schemaCount }
}
