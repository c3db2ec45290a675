// Fuzz and abuse suite, driven by the API's own OpenAPI document so a new route is fuzzed without
// touching this file: every operation gets malformed, oversized, wrongly typed and hostile input
// (bodies, content types, path parameters, query parameters, headers) with a valid customer token,
// without one, with forged tokens and with another customer's token. Every answer must be below
// 500, a 4xx must be problem+json without stack or internals, no other customer's data may appear,
// and nothing may be stored: the customer's dashboard, profile and transfers, and every dead-letter
// stream, are the same after the batch. The cases are a fixed list plus a seeded generator, so a
// failure names a request that reproduces. Also keeps earlier findings from coming back: path
// tricks, forged and swapped tokens, and proxy headers that try to dodge the per-address login limit.
import { Effect } from "effect"
import { PasswordHash } from "@bank/platform"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { useStack } from "./support/bankStack.ts"

const PASSWORD = "correct horse battery"
const CUSTOMERS = 3
const ADDRESS_LIMIT = 40

// Customer i has EUR accounts i*100+1 and i*100+2; every customer's name and IBANs are markers
// that must never reach another customer.
const iban = (account: number) => `BE00${String(account).padStart(12, "0")}`
const marker = (i: number) => `Fuzzname${i}`
const seed = async (db: pg.Client) => {
  const hash = await Effect.runPromise(
    PasswordHash.hash(PASSWORD, { params: { ...PasswordHash.defaultParams, N: 1024 } })
  )
  for (let i = 1; i <= CUSTOMERS; i++) {
    await db.query(
      `INSERT INTO customer.customers (customer_id, given_name, family_name, email, address_line1, postal_code, city, country, date_of_birth, segment)
       VALUES ($1, $2, 'Test', $3, '1 Main St', '1000', 'Brussels', 'BE', '1980-01-01', 'retail')`,
      [i, marker(i), `fuzz${i}@example.com`]
    )
    await db.query("INSERT INTO customer.credentials (customer_id, username, password_hash) VALUES ($1, $2, $3)", [
      i,
      `fuzz${i}`,
      hash
    ])
    for (const n of [1, 2]) {
      await db.query(
        `INSERT INTO deposits.accounts (account_id, customer_id, iban, product, name, currency, balance, available_balance, last_entry_no, status, opened_on)
         VALUES ($1, $2, $3, 'current', 'Account', 'EUR', 100000, 100000, 0, 'open', '2024-01-02')`,
        [i * 100 + n, i, iban(i * 100 + n)]
      )
    }
  }
}

const stack = useStack({
  seed,
  waitForUser: `fuzz${CUSTOMERS}`,
  everything: true,
  debugHeaders: false,
  identity: { addressRateLimit: ADDRESS_LIMIT, usernameRateLimit: 1000, rateWindowMs: 600_000 }
})

/** A small seeded generator (mulberry32): the same cases on every run. */
const generator = (seedValue: number) => {
  let a = seedValue >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(next() * xs.length)]!
  return { next, pick }
}

// Hostile values: strings the server must refuse or store faithfully, never crash on.
const hostileStrings: ReadonlyArray<string> = [
  "",
  "a".repeat(100_000),
  "\u0000",
  "abc\u0000def",
  "\u0001\u0002\u001b[31m\u007f",
  "\r\nSet-Cookie: x=1",
  "\ud800",
  "\udfff\ud800",
  "\u202eevil\u202c",
  "\ufeff\u200b\u200d",
  "😀".repeat(5_000),
  "e\u0301".repeat(1_000),
  "../../etc/passwd",
  "' OR 1=1 --",
  "{c:2}:doc:dashboard",
  "deposits:201",
  `$${"{"}jndi:ldap://x}`,
  "<script>alert(1)</script>"
]
const wrongTypes: ReadonlyArray<unknown> = [null, true, 0, -1, 1e308, -0, 1.5, [], [1], {}, { $gt: "" }, "1e999", "NaN"]
const pathTricks: ReadonlyArray<string> = [
  "..%2f..%2fadmin",
  "..%2F",
  "%2e%2e%2f",
  "..",
  "%00",
  "a%00b",
  "%252e%252e%252f",
  "%ff%fe",
  "%c0%ae%c0%ae",
  "x".repeat(5_000),
  "deposits:201",
  "deposits%3A201",
  "201",
  "-1",
  "1e3",
  "%20",
  "%0d%0aX-Injected:%201",
  "{c:2}",
  "*",
  "%E2%80%AE"
]
const malformedBodies: ReadonlyArray<string> = [
  "{",
  '{"a":',
  "[]",
  "null",
  '"text"',
  "42",
  '{"a":1,}',
  "{'a':1}",
  "\u0000",
  '{"a":"\\ud800"}',
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
  "[".repeat(10_000) + "]".repeat(10_000),
  '{"a":' + '{"a":'.repeat(5_000) + "1" + "}".repeat(5_001)
]
const hostileHeaders: ReadonlyArray<Record<string, string>> = [
  { "Idempotency-Key": "k".repeat(10_000) },
  { "Idempotency-Key": "" },
  { "Idempotency-Key": "a\tb c" },
  { "Last-Event-ID": "garbage" },
  { "Last-Event-ID": "999999999999999999999999-0" },
  { "Last-Event-ID": "1-1-1" },
  { "Consistency-Token": "garbage" },
  { "Consistency-Token": "x".repeat(8_000) },
  { "Consistency-Token": "eyJ9.eyJ9.eyJ9" },
  { "Content-Type": "application/json; charset=utf-16" },
  { "Content-Type": "text/plain" },
  { "Content-Type": "application/x-www-form-urlencoded" },
  { "Content-Type": "multipart/form-data; boundary=x" },
  { "Content-Type": "application/json; charset=latin1" },
  { Accept: "application/xml" },
  { "Accept-Encoding": "gzip;q=abc" },
  { "X-Forwarded-For": "1.1.1.1, 2.2.2.2" },
  { "X-Forwarded-Host": "evil.example" },
  { "Content-Length-Extra": "1" }
]
const badQueries: ReadonlyArray<string> = [
  "cursor=garbage",
  "cursor=" + "A".repeat(5_000),
  "cursor=%00",
  "cursor=-1",
  "cursor=eyJhIjoxfQ",
  "limit=-1",
  "limit=1e9",
  "limit=abc",
  "fields=__proto__",
  "fields=accounts,../..,*",
  "fields=" + "a,".repeat(2_000),
  "fields[]=x&fields[]=y",
  "fields=%00",
  "from=not-a-date&to=also-not",
  "customerId=2",
  "a=%ff"
]

type Token = { readonly label: string; readonly value: string | undefined }

interface OpenApi {
  readonly paths: Record<string, Record<string, { operationId: string; requestBody?: any; security?: Array<unknown> }>>
  readonly components?: { schemas?: Record<string, any> }
}

interface Probe {
  readonly method: string
  readonly path: string
  readonly token: Token
  readonly headers?: Record<string, string>
  readonly body?: string | Uint8Array
  readonly label: string
}

interface Seen {
  readonly probe: Probe
  readonly status: number
  readonly contentType: string
  readonly text: string
}

// Words that only internals would print: stack frames, driver and runtime error names.
const internals =
  /\bat [\w.<>]+ \(|node_modules|\/src\/|\.ts:\d+|ECONNREFUSED|ERR_[A-Z_]+|SyntaxError|TypeError|ReferenceError|RedisError|ReplyError|PostgresError|\bpg_|\bFiber\b|\bEffect\.|stack"/

const send = async (base: string, probe: Probe): Promise<Seen> => {
  const headers: Record<string, string> = {}
  if (probe.token.value !== undefined) headers.Authorization = `Bearer ${probe.token.value}`
  if (probe.body !== undefined) headers["Content-Type"] = "application/json"
  Object.assign(headers, probe.headers)
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), 15_000)
  try {
    const response = await fetch(`${base}${probe.path}`, {
      method: probe.method,
      headers,
      signal: controller.signal,
      ...(probe.body !== undefined && probe.method !== "GET" && probe.method !== "HEAD" ? { body: probe.body } : {})
    })
    const contentType = response.headers.get("content-type") ?? ""
    // A live event stream that opened: the headers say enough; close it.
    if (contentType.includes("text/event-stream")) {
      await response.body?.cancel()
      return { probe, status: response.status, contentType, text: "" }
    }
    return { probe, status: response.status, contentType, text: await response.text() }
  } catch (error) {
    // The server may close the connection on a body it will not read (status 0: no answer).
    return { probe, status: 0, contentType: "", text: String((error as Error).cause ?? error) }
  } finally {
    clearTimeout(timer)
  }
}

/** Runs the probes a few at a time, as a busy client would. */
const sendAll = async (base: string, probes: ReadonlyArray<Probe>, width = 8): Promise<Array<Seen>> => {
  const seen: Array<Seen> = []
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < probes.length) {
        const probe = probes[next++]!
        seen.push(await send(base, probe))
      }
    })
  )
  return seen
}

const describeProbe = (p: Probe) => `${p.method} ${p.path.slice(0, 120)} [${p.token.label}] ${p.label}`

/** The schema's object properties and required names, following one local $ref. */
const shapeOf = (doc: OpenApi, schema: any): { properties: Record<string, any>; required: Array<string> } => {
  const resolved = schema?.$ref ? doc.components?.schemas?.[String(schema.$ref).split("/").pop()!] : schema
  const alternative = resolved?.anyOf?.[0] ?? resolved?.oneOf?.[0]
  const object = resolved?.properties ? resolved : alternative?.properties ? alternative : undefined
  return { properties: object?.properties ?? {}, required: object?.required ?? [] }
}

/** A value of the property's declared kind, to keep the other fields plausible while one is hostile. */
const plausible = (schema: any): unknown => {
  const type = schema?.type ?? (schema?.enum ? typeof schema.enum[0] : undefined)
  if (schema?.enum) return schema.enum[0]
  if (type === "number" || type === "integer") return 1
  if (type === "boolean") return false
  if (type === "array") return []
  if (type === "object") return {}
  return "x"
}

/** Every hostile request of one operation, from the document. */
const probesOf = (
  doc: OpenApi,
  method: string,
  template: string,
  op: any,
  tokens: ReadonlyArray<Token>,
  valid: Token,
  rng: ReturnType<typeof generator>
): Array<Probe> => {
  const probes: Array<Probe> = []
  const params = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)
  const fill = (value: (name: string) => string) => template.replace(/\{(\w+)\}/g, (_, name: string) => value(name))
  const plain = fill(() => "1")
  const hasBody = Boolean(op.requestBody) || ["POST", "PATCH", "PUT"].includes(method)
  const add = (p: Omit<Probe, "method">) => probes.push({ method, ...p })

  // Tokens: none, forged, swapped and another customer's, on the plain request.
  for (const token of tokens) add({ path: plain, token, label: "token", ...(hasBody ? { body: "{}" } : {}) })
  // Path parameters: traversal and encoding tricks, other customers' ids, very long.
  for (const param of params) {
    for (const trick of pathTricks)
      add({
        path: fill((name) => (name === param ? trick : "1")),
        token: valid,
        label: `path ${param}=${trick.slice(0, 20)}`
      })
  }
  // Query parameters: cursor garbage, fields injection.
  for (const query of badQueries) add({ path: `${plain}?${query}`, token: valid, label: `query ${query.slice(0, 30)}` })
  // Headers.
  for (const headers of hostileHeaders)
    add({
      path: plain,
      token: valid,
      headers,
      label: `header ${Object.keys(headers)[0]}`,
      ...(hasBody ? { body: "{}" } : {})
    })
  if (!hasBody) return probes

  // Bodies: malformed JSON, duplicate keys, oversized, wrong content types.
  for (const body of malformedBodies) add({ path: plain, token: valid, body, label: `malformed ${body.slice(0, 20)}` })
  const shape = shapeOf(doc, op.requestBody?.content?.["application/json"]?.schema)
  const names = Object.keys(shape.properties)
  const base = Object.fromEntries(names.map((n) => [n, plausible(shape.properties[n])]))
  const first = names[0] ?? "a"
  add({ path: plain, token: valid, body: `{"${first}":1,"${first}":2}`, label: "duplicate keys" })
  add({
    path: plain,
    token: valid,
    body: JSON.stringify({ ...base, pad: "x".repeat(3 * 1024 * 1024) }),
    label: "oversized 3 MiB"
  })
  add({ path: plain, token: valid, body: " ".repeat(2 * 1024 * 1024) + "{}", label: "oversized whitespace" })
  add({
    path: plain,
    token: valid,
    body: JSON.stringify(base),
    headers: { "Content-Type": "text/plain" },
    label: "text/plain body"
  })
  add({
    path: plain,
    token: valid,
    body: JSON.stringify(base),
    headers: { "Content-Type": "application/json; charset=utf-16" },
    label: "utf-16 charset"
  })
  add({
    path: plain,
    token: valid,
    body: new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
    headers: { "Content-Type": "application/json" },
    label: "utf-16 bytes"
  })
  // Missing required fields: each alone, and all.
  for (const name of shape.required) {
    const { [name]: _, ...rest } = base
    add({ path: plain, token: valid, body: JSON.stringify(rest), label: `missing ${name}` })
  }
  // Wrongly typed fields, and hostile strings in every field (seeded picks keep it lean).
  for (const name of names) {
    for (const wrong of wrongTypes) {
      if (typeof wrong === typeof plausible(shape.properties[name]) && !Array.isArray(wrong) && wrong !== null) continue
      add({
        path: plain,
        token: valid,
        body: JSON.stringify({ ...base, [name]: wrong }),
        label: `${name} as ${JSON.stringify(wrong)}`
      })
    }
    for (let i = 0; i < 4; i++) {
      const value = rng.pick(hostileStrings)
      add({
        path: plain,
        token: valid,
        body: JSON.stringify({ ...base, [name]: value }),
        label: `${name} hostile #${hostileStrings.indexOf(value)}`
      })
    }
  }
  // Unknown and smuggled fields.
  add({
    path: plain,
    token: valid,
    body: JSON.stringify({ ...base, customerId: "2", admin: true, roles: ["admin"] }),
    label: "smuggled fields"
  })
  return probes
}

describe("fuzz and abuse, every route of the OpenAPI document", () => {
  it("answers every hostile request below 500 with problem+json, shows no other customer's data, stores nothing", async () => {
    const doc = (await stack.call("GET", "/openapi.json")).body as OpenApi
    const me = await stack.login("fuzz1", PASSWORD)
    const other = await stack.login("fuzz2", PASSWORD)
    const spare = await stack.login("fuzz3", PASSWORD)
    // The dashboard document exists before the batch (the projector has seen the customer).
    let before: Record<string, unknown> = {}
    for (let tries = 0; tries < 600; tries++) {
      const dashboard = await stack.call("GET", "/v1/dashboard", { token: me.token })
      if (dashboard.status === 200) {
        before = { dashboard: dashboard.body }
        break
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(before.dashboard, "dashboard document before the batch").toBeDefined()
    // A read on a kept-alive connection the server closed after an oversized body is tried again.
    const read = async (path: string) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await stack.call("GET", path, { token: me.token })
        } catch (error) {
          if (attempt >= 20) throw error
        }
      }
    }
    const snapshot = async () => {
      const profile = await read("/v1/profile")
      const dashboard = await read("/v1/dashboard")
      const transfers = await stack.db.query("SELECT count(*)::int AS n FROM payments.transfers")
      const customer = await stack.db.query("SELECT * FROM customer.customers WHERE customer_id = 1")
      const dead: Record<string, number> = {}
      for await (const keys of stack.redis.scanIterator({ MATCH: "stream:*:dead", COUNT: 1000 })) {
        for (const key of [keys].flat()) dead[key] = await stack.redis.xLen(key)
      }
      return {
        profile: profile.body,
        dashboard: dashboard.body,
        transfers: transfers.rows[0].n,
        customer: customer.rows[0],
        dead
      }
    }
    const start = await snapshot()

    const [header, payload, signature] = me.token.split(".")
    const forgedTokens: Array<Token> = [
      { label: "none", value: undefined },
      { label: "empty", value: "" },
      { label: "garbage", value: "garbage" },
      { label: "long", value: "t".repeat(10_000) },
      { label: "tab", value: "a\tb" },
      {
        label: "swapped signature",
        value: signature ? `${header}.${payload}.${other.token.split(".")[2]}` : `${me.token.slice(0, -4)}AAAA`
      },
      { label: "flipped", value: `${me.token.slice(0, -1)}${me.token.endsWith("A") ? "B" : "A"}` },
      { label: "alg none", value: "eyJhbGciOiJub25lIn0.eyJzdWIiOiIyIn0." },
      { label: "other customer", value: other.token }
    ]
    const valid: Token = { label: "customer", value: me.token }
    // Calls that end sessions (logout, wrong step-up passwords) would succeed with the customer's own token; they get a spare
    // customer's token instead, so the rest of the batch keeps a live session.
    const spareToken: Token = { label: "spare customer", value: spare.token }
    const rng = generator(0x5eed)

    const operations: Array<{ method: string; path: string; op: any }> = []
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (["get", "post", "put", "patch", "delete", "head"].includes(method))
          operations.push({ method: method.toUpperCase(), path, op })
      }
    }
    expect(operations.length).toBeGreaterThan(30)
    // Wrong step-up passwords end the session after a few tries (by design): that route too.
    const endsSessions = (o: { method: string; path: string; op: any }) =>
      (o.method !== "GET" && !o.op.requestBody) || o.path === "/v1/auth/step-up"
    // Session-ending calls go last, so their effect on the spare customer touches nothing else.
    operations.sort((a, b) => Number(endsSessions(a)) - Number(endsSessions(b)))

    const probes = operations.flatMap((o) =>
      probesOf(doc, o.method, o.path, o.op, forgedTokens, endsSessions(o) ? spareToken : valid, rng)
    )
    // Oversized bodies go last, one at a time: the server may close a connection whose body it
    // will not read, and a request that shared that connection must not be taken for a failure.
    const oversized = (p: Probe) => p.label.startsWith("oversized")
    const seen = [
      ...(await sendAll(
        stack.base,
        probes.filter((p) => !oversized(p))
      )),
      ...(await sendAll(stack.base, probes.filter(oversized), 1))
    ]

    const failures: Array<string> = []
    const foreign = [marker(2), marker(3), iban(201), iban(202), iban(301), iban(302)]
    for (const s of seen) {
      const what = `${describeProbe(s.probe)} → ${s.status} ${s.text.slice(0, 200)}`
      if (s.status >= 500) failures.push(`5xx: ${what}`)
      if (s.status === 0 && !s.probe.label.startsWith("oversized")) failures.push(`no answer: ${what}`)
      if (s.status >= 400 && s.status < 500) {
        if (s.probe.method !== "HEAD" && !s.contentType.startsWith("application/problem+json"))
          failures.push(`not problem+json (${s.contentType}): ${what}`)
        if (internals.test(s.text)) failures.push(`internals: ${what}`)
      }
      if (s.probe.token.label !== "other customer" && s.probe.token.label !== "spare customer") {
        const leaked = foreign.find((m) => s.text.includes(m))
        if (leaked) failures.push(`other customer's data (${leaked}): ${what}`)
      }
      if (
        s.probe.token.value !== me.token &&
        s.probe.token.label !== "other customer" &&
        s.probe.token.label !== "spare customer"
      ) {
        if (s.text.includes(marker(1)) || s.text.includes(iban(101)))
          failures.push(`customer data without a valid token: ${what}`)
      }
    }
    // Connections the server closed after an oversized body leave the client's pool: 10 answers in a row.
    for (let ok = 0, tries = 0; ok < 10 && tries < 200; tries++) {
      ok = await fetch(`${stack.base}/healthz`).then(
        (r) => r.text().then(() => ok + 1),
        () => 0
      )
    }
    const statuses: Record<string, number> = {}
    for (const s of seen) statuses[s.status] = (statuses[s.status] ?? 0) + 1
    console.log(
      `fuzz: ${seen.length} requests over ${operations.length} operations; statuses ${JSON.stringify(statuses)}`
    )
    expect(failures.slice(0, 40)).toEqual([])

    const end = await snapshot()
    expect(end.transfers).toBe(start.transfers)
    expect(end.customer).toEqual(start.customer)
    expect(end.profile).toEqual(start.profile)
    expect(end.dashboard).toEqual(start.dashboard)
    expect(end.dead).toEqual(start.dead)
  }, 120_000)

  it("lets no proxy header dodge the per-address login limit", async () => {
    // The batch above spent this address's attempts: start from a clean window (as its expiry would).
    for await (const keys of stack.redis.scanIterator({ MATCH: "identity:throttle:*", COUNT: 1000 })) {
      for (const key of [keys].flat()) await stack.redis.del(key)
    }
    const answers: Array<number> = []
    for (let i = 0; i < ADDRESS_LIMIT * 2 + 5; i++) {
      const a = await stack.call("POST", "/v1/auth/login", {
        body: { username: `nobody${i}`, password: "wrong" },
        headers: {
          "X-Forwarded-For": `10.0.${i % 250}.${i % 7}`,
          "X-Real-IP": `10.1.0.${i % 250}`,
          Forwarded: `for=10.2.0.${i % 250}`
        }
      })
      answers.push(a.status)
      if (a.status === 429) break
    }
    // Each attempt came from a "different" forwarded address, yet the socket's limit holds.
    expect(answers.length).toBe(ADDRESS_LIMIT + 1)
    expect(answers.at(-1)).toBe(429)
  })
})
