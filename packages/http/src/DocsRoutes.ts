// The API's own description, served without a token:
//   GET /openapi.json            the OpenAPI 3.1 document (OpenApiDocument.ts)
//   GET /docs                    the same document as one readable, self-contained page (no
//                                script, no CDN: it is rendered here from the document), and
//                                its stylesheet /docs/docs.css
//   GET /docs/problems[/{slug}]  what each problem type means: the URL in every problem's `type`
// The document and the pages are built once, at start.
import { Schema } from "effect"
import type { Hono } from "hono"
import type { Routes } from "./App.ts"
import { Problem } from "./ApiSchemas.ts"
import { type Operation, operation } from "./Operations.ts"
import type { ProblemTable } from "./ErrorTable.ts"
import { problemTypes } from "./OpenApiDocument.ts"
import type { EdgeEnv } from "./ProblemDetails.ts"

type Json = Record<string, any>

const escape = (text: unknown): string =>
  String(text).replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!
  )

// Markdown links of descriptions ([title](url)) as HTML links; everything else escaped.
const prose = (text: unknown): string =>
  escape(text ?? "")
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label, url) => `<a href="${url}">${label}</a>`)
    .replace(/`([^`]+)`/g, "<code>$1</code>")

const style = `body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1a1a1a;background:#fff}
h1,h2,h3{line-height:1.2}h2{border-bottom:2px solid #0b5;padding-bottom:.2rem;margin-top:2.5rem}
.op{border:1px solid #ccc;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase;color:#fff;background:#055;border-radius:4px;padding:0 .4rem;text-align:center}
.get{background:#05577c}.post{background:#0a6b2f}.patch{background:#7a4b00}.delete{background:#9b1c1c}
code,pre{font:14px ui-monospace,monospace;background:#f3f3f3}pre{padding:.5rem;overflow-x:auto;max-height:24rem}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}
a{color:#0645ad}nav a{margin-right:1rem}`

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
  `<title>${escape(title)}</title><link rel="stylesheet" href="/docs/docs.css"></head><body><nav><a href="/docs">API</a><a href="/docs/problems">Problems</a>` +
  `<a href="/openapi.json">openapi.json</a><a href="/">App</a></nav>${body}</body></html>`

const json = (value: unknown) => `<pre>${escape(JSON.stringify(value, null, 2))}</pre>`

const schemaBlock = (schema: Json | undefined) => {
  if (!schema) return ""
  const ref = typeof schema.$ref === "string" ? schema.$ref.replace("#/components/schemas/", "") : undefined
  return ref
    ? `<a href="#schema-${escape(ref)}">${escape(ref)}</a>`
    : `<details><summary>schema</summary>${json(schema)}</details>`
}

const renderOperation = (path: string, method: string, op: Json) => {
  const params = (op.parameters ?? []) as Array<Json>
  const rows = params.map(
    (p) =>
      `<tr><td><code>${escape(p.name)}</code></td><td>${escape(p.in)}${p.required ? " (required)" : ""}</td><td>${prose(p.description)}</td></tr>`
  )
  const body = op.requestBody?.content?.["application/json"]?.schema
  const responses = Object.entries(op.responses as Record<string, Json>).map(([status, r]) => {
    const [type, media] = Object.entries((r.content ?? {}) as Record<string, Json>)[0] ?? []
    const headers = Object.entries((r.headers ?? {}) as Record<string, Json>)
      .map(([h, d]) => `<br>header <code>${escape(h)}</code>: ${prose(d.description)}`)
      .join("")
    return `<tr><td>${escape(status)}</td><td>${prose(r.description)}${headers}</td><td>${type ? `<code>${escape(type)}</code> ${schemaBlock(media?.schema)}` : ""}</td></tr>`
  })
  return (
    `<div class="op" id="${escape(op.operationId)}"><h3><span class="m ${method}">${method}</span> <code>${escape(path)}</code></h3>` +
    `<p><strong>${escape(op.summary)}</strong>${op.security?.length === 0 ? " — no token needed" : ""}</p>${op.description ? `<p>${prose(op.description)}</p>` : ""}` +
    (rows.length ? `<table><tr><th>Parameter</th><th>In</th><th>Meaning</th></tr>${rows.join("")}</table>` : "") +
    (body ? `<p>Request body (application/json): ${schemaBlock(body)}</p>` : "") +
    `<table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>${responses.join("")}</table></div>`
  )
}

export const renderDocs = (document: Json): string => {
  const byTag = new Map<string, Array<string>>()
  for (const [path, methods] of Object.entries(document.paths as Record<string, Record<string, Json>>)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = (op.tags?.[0] ?? "Other") as string
      byTag.set(tag, [...(byTag.get(tag) ?? []), renderOperation(path, method, op)])
    }
  }
  const sections = [...byTag].map(([tag, ops]) => `<h2>${escape(tag)}</h2>${ops.join("")}`).join("")
  const schemas = Object.entries(document.components.schemas as Record<string, Json>)
    .map(
      ([name, s]) =>
        `<h3 id="schema-${escape(name)}">${escape(name)}</h3>${s.description ? `<p>${prose(s.description)}</p>` : ""}${json(s)}`
    )
    .join("")
  return page(
    document.info.title,
    `<h1>${escape(document.info.title)} <small>${escape(document.info.version)}</small></h1>` +
      `<p>${prose(document.info.description).replace(/\n\n/g, "</p><p>")}</p>${sections}<h2>Schemas</h2>${schemas}`
  )
}

const renderProblems = (table: ProblemTable) =>
  page(
    "Problem types",
    `<h1>Problem types</h1><p>Every error is <code>application/problem+json</code> (RFC 9457). Its <code>type</code> is one of these URLs; branch on it.</p>` +
      `<table><tr><th>type</th><th>Title</th><th>Status</th><th>Meaning</th></tr>${problemTypes(table)
        .map(
          (t) =>
            `<tr id="${escape(t.slug)}"><td><a href="${escape(t.uri)}"><code>${escape(t.uri)}</code></a></td><td>${escape(t.title)}</td><td>${t.statuses.join(", ")}</td><td>${escape(t.detail ?? "See detail.")}</td></tr>`
        )
        .join("")}</table>`
  )

const renderProblem = (table: ProblemTable, slug: string) => {
  const t = problemTypes(table).find((p) => p.slug === slug)
  return (
    t &&
    page(
      t.title,
      `<h1>${escape(t.title)}</h1><p><code>type</code>: <code>${escape(t.uri)}</code>; HTTP ${t.statuses.join(" or ")}.</p>` +
        `<p>${escape(t.detail ?? "The problem's detail says what happened.")}</p><p><a href="/docs/problems">All problem types</a></p>`
    )
  )
}

const html = { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "public, max-age=300" }

/** The routes; `problems` is the edge's merged table, the one the document was built from. */
export const docsRoutes =
  (document: Json, table: ProblemTable): Routes<never> =>
  (app: Hono<EdgeEnv>) => {
    const text = JSON.stringify(document)
    const docs = renderDocs(document)
    const problems = renderProblems(table)
    app.get("/openapi.json", (c) =>
      c.body(text, 200, { "Content-Type": "application/json", "Cache-Control": "public, max-age=300" })
    )
    app.get("/docs", (c) => c.body(docs, 200, html))
    // A file of its own: the pages' Content-Security-Policy allows no inline style.
    app.get("/docs/docs.css", (c) =>
      c.body(style, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=300" })
    )
    app.get("/docs/problems", (c) => c.body(problems, 200, html))
    app.get("/docs/problems/:slug", (c) => {
      const body = renderProblem(table, c.req.param("slug"))
      return body === undefined ? c.notFound() : c.body(body, 200, html)
    })
  }

const Html = Schema.String.annotate({ description: "An HTML page." })

/** The routes of the HTTP kit itself: health and these documents. */
export const kitOperations: ReadonlyArray<Operation> = [
  operation({
    method: "get",
    path: "/healthz",
    operationId: "health",
    tag: "Operations",
    authenticated: false,
    summary: "Liveness: the process serves HTTP",
    responses: { 200: { description: "Serving.", schema: Schema.Struct({ status: Schema.Literal("ok") }) } }
  }),
  operation({
    method: "get",
    path: "/readyz",
    operationId: "readiness",
    tag: "Operations",
    authenticated: false,
    summary: "Readiness: Redis and PostgreSQL answer",
    responses: {
      200: { description: "Ready.", schema: Schema.Struct({ status: Schema.String }) },
      503: {
        description: "Not ready ([not-ready](/docs/problems/not-ready)): `checks` says which dependency fails.",
        contentType: "application/problem+json",
        schema: Problem
      }
    }
  }),
  operation({
    method: "get",
    path: "/openapi.json",
    operationId: "openApiDocument",
    tag: "Documentation",
    authenticated: false,
    summary: "This API's OpenAPI 3.1 document",
    responses: {
      200: {
        description: "The document.",
        schema: Schema.Struct({ openapi: Schema.String, paths: Schema.Record(Schema.String, Schema.Unknown) })
      }
    }
  }),
  operation({
    method: "get",
    path: "/docs",
    operationId: "docs",
    tag: "Documentation",
    authenticated: false,
    summary: "The API documentation (this page)",
    responses: { 200: { description: "HTML.", contentType: "text/html", schema: Html } }
  }),
  operation({
    method: "get",
    path: "/docs/docs.css",
    operationId: "docsStylesheet",
    tag: "Documentation",
    authenticated: false,
    summary: "The documentation pages' stylesheet",
    responses: { 200: { description: "CSS.", contentType: "text/css", schema: Schema.String } }
  }),
  operation({
    method: "get",
    path: "/docs/problems",
    operationId: "problemTypes",
    tag: "Documentation",
    authenticated: false,
    summary: "Every problem type",
    responses: { 200: { description: "HTML.", contentType: "text/html", schema: Html } }
  }),
  operation({
    method: "get",
    path: "/docs/problems/{slug}",
    operationId: "problemType",
    tag: "Documentation",
    authenticated: false,
    summary: "One problem type: the URL in a problem's `type`",
    parameters: [{ name: "slug", in: "path", required: true, description: "The last segment of the problem's type." }],
    responses: { 200: { description: "HTML.", contentType: "text/html", schema: Html } },
    problems: ["RouteNotFound"]
  })
]
