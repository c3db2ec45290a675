// The bank's HTTP API as a load test calls it, written once for both runtimes: the k6 scripts
// give it a client over k6/http, the Node runner one over node:http. Every request carries a
// `name` tag (the metric thresholds select on) and the statuses that count as success; anything
// else counts in http_req_failed, as k6 does.
//
// Each simulated phone sends `X-Forwarded-For` with a synthetic address of its own, from
// 198.18.0.0/15 (the block RFC 2544 reserves for benchmarks: nothing is ever sent there, it is
// only a header), so per-address login limits see many phones rather than one load generator.
// The edge honours it only with IDENTITY_TRUSTED_PROXY_HOPS=1, as behind a load balancer.

// Paths and bodies come from the typed client's API table, generated from /openapi.json
// (packages/client/src/generated.ts): a route or body that changes fails the type check here.
// Imported by relative path, which both k6 and Node resolve; the table is plain data.
import { operations, type OperationId, type Operations } from "../../packages/client/src/generated.ts"

export type Method = "GET" | "POST" | "PATCH" | "DELETE"

/** An operation's path with its parameters filled in (k6 has no URLSearchParams: no query here). */
const pathOf = <K extends OperationId>(id: K, params: Operations[K]["path"]): string =>
  operations[id].path.replace(/\{([^}]+)\}/g, (_, p: string) =>
    encodeURIComponent((params as Record<string, string>)[p] ?? "")
  )

export interface Request {
  readonly method: Method
  readonly path: string
  /** The `name` tag: one per kind of request, e.g. "login", "dashboard". */
  readonly name: string
  readonly body?: unknown
  readonly token?: string
  readonly headers?: Readonly<Record<string, string>>
  /** Statuses that count as success (default 200). */
  readonly expect?: ReadonlyArray<number>
}

export interface Reply {
  readonly status: number
  /** The body as JSON, or undefined when it is not JSON. */
  json(): unknown
}

export interface Client {
  request(request: Request): Promise<Reply>
  /** Records a check (k6's `checks` metric). */
  check(name: string, ok: boolean): void
  sleep(seconds: number): Promise<void>
}

export interface Account {
  readonly id: string
  readonly currency: string | undefined
  readonly kind: string | undefined
}

export interface Session {
  readonly user: number
  readonly accessToken: string
  readonly refreshToken: string
  readonly customerId: string
  readonly sessionId: string
  readonly loggedInAt: number
  accounts?: ReadonlyArray<Account>
}

/** What one virtual user keeps between iterations. */
export interface VuState {
  session?: Session | undefined
}

export interface Context {
  readonly client: Client
  /** 1-based, unique in the test. */
  readonly vu: number
  /** 0-based, unique in the scenario. */
  readonly iteration: number
  readonly state: VuState
  readonly users: { readonly prefix: string; readonly count: number; readonly password: string }
  readonly options: Readonly<Record<string, unknown>>
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)
const text = (value: unknown): string | undefined =>
  typeof value === "string" || typeof value === "number" ? String(value) : undefined

/** The synthetic client address of demo user `user` (see the top of this file). */
export const addressOf = (user: number): string => `198.${18 + ((user >> 16) & 1)}.${(user >> 8) & 255}.${user & 255}`

/** A demo user number from 1 to `count`, for any non-negative integer. */
export const userFor = (n: number, count: number): number => (Math.abs(Math.floor(n)) % Math.max(1, count)) + 1

export const pick = <A>(items: ReadonlyArray<A>): A | undefined => items[Math.floor(Math.random() * items.length)]

/** A random v4-shaped id (k6 has no crypto.randomUUID everywhere). */
export const randomId = (): string =>
  "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (ch) => {
    const r = Math.floor(Math.random() * 16)
    return (ch === "x" ? r : (r & 3) | 8).toString(16)
  })

export const login = async (ctx: Context, user: number): Promise<Session | undefined> => {
  const reply = await ctx.client.request({
    method: "POST",
    path: pathOf("login", {}),
    name: "login",
    body: {
      username: `${ctx.users.prefix}${user}`,
      password: ctx.users.password,
      deviceId: `load-${user}`
    } satisfies Operations["login"]["body"],
    headers: { "X-Forwarded-For": addressOf(user) }
  })
  const body = reply.json()
  const ok = reply.status === 200 && isRecord(body) && typeof body.accessToken === "string"
  ctx.client.check("login answers a token pair", ok)
  if (!ok || !isRecord(body)) return undefined
  return {
    user,
    accessToken: String(body.accessToken),
    refreshToken: String(body.refreshToken),
    customerId: String(body.customerId),
    sessionId: String(body.sessionId),
    loggedInAt: Date.now()
  }
}

/** The VU's session, logging in as `user` first when it has none. */
export const ensureSession = async (ctx: Context, user: number): Promise<Session | undefined> => {
  if (ctx.state.session) return ctx.state.session
  ctx.state.session = await login(ctx, user)
  return ctx.state.session
}

/** A request with the session's bearer token; a 401 drops the session (the next iteration logs in again). */
export const authed = async (ctx: Context, session: Session, request: Omit<Request, "token">): Promise<Reply> => {
  const reply = await ctx.client.request({
    ...request,
    token: session.accessToken,
    headers: { "X-Forwarded-For": addressOf(session.user), ...request.headers }
  })
  if (reply.status === 401 && ctx.state.session === session) ctx.state.session = undefined
  return reply
}

/**
 * The accounts of a dashboard document: tolerant of the exact shape (an `accounts` array, or one
 * array per product line), since only ids and currencies matter here.
 */
export const accountsOf = (document: unknown): ReadonlyArray<Account> => {
  const found: Array<Account> = []
  const visit = (value: unknown, kind: string | undefined, depth: number) => {
    if (depth > 3) return
    if (Array.isArray(value)) {
      for (const item of value) {
        const id = isRecord(item) ? text(item.accountId ?? item.id) : undefined
        if (isRecord(item) && id !== undefined) {
          found.push({
            id,
            currency: text(item.currency),
            kind: text(item.system ?? item.product ?? item.kind) ?? kind
          })
        }
      }
    } else if (isRecord(value)) {
      for (const [key, child] of Object.entries(value))
        if (key !== "transactions" && key !== "latestTransactions") visit(child, key, depth + 1)
    }
  }
  visit(isRecord(document) ? (document.accounts ?? document) : document, undefined, 0)
  return found
}

export const dashboard = async (ctx: Context, session: Session): Promise<unknown> => {
  const reply = await authed(ctx, session, { method: "GET", path: pathOf("getDashboard", {}), name: "dashboard" })
  const body = reply.json()
  ctx.client.check("dashboard is a document", reply.status === 200 && isRecord(body))
  if (reply.status === 200) session.accounts = accountsOf(body)
  return body
}

/** A request with a token nobody issued: the token check must refuse it. */
export const forgedToken = async (ctx: Context): Promise<void> => {
  const reply = await ctx.client.request({
    method: "GET",
    path: pathOf("getDashboard", {}),
    name: "forged-token",
    token: randomId().replace(/-/g, "") + randomId().replace(/-/g, ""),
    expect: [401]
  })
  ctx.client.check("a forged token gets 401", reply.status === 401)
}

export const sessionDocument = async (ctx: Context, session: Session): Promise<void> => {
  const reply = await authed(ctx, session, { method: "GET", path: pathOf("getSession", {}), name: "session" })
  ctx.client.check("session document is there", reply.status === 200)
}

export const preferences = async (ctx: Context, session: Session): Promise<void> => {
  const reply = await authed(ctx, session, {
    method: "PATCH",
    path: pathOf("updatePreferences", {}),
    name: "preferences",
    body: { theme: pick(["light", "dark"]) ?? "light" } satisfies Operations["updatePreferences"]["body"]
  })
  ctx.client.check("preferences accepted", reply.status === 200)
}

export const profile = async (ctx: Context, session: Session, fields?: string): Promise<void> => {
  const path = fields ? `${pathOf("getProfile", {})}?fields=${fields}` : pathOf("getProfile", {})
  const reply = await authed(ctx, session, { method: "GET", path, name: "profile" })
  ctx.client.check("profile is a document", reply.status === 200 && isRecord(reply.json()))
}

export const profileUpdate = async (ctx: Context, session: Session): Promise<void> => {
  const reply = await authed(ctx, session, {
    method: "PATCH",
    path: pathOf("updateProfile", {}),
    name: "profile-update",
    body: {
      preferences: { language: pick(["en", "fr", "nl", "de"]) ?? "en" }
    } satisfies Operations["updateProfile"]["body"],
    expect: [200, 202]
  })
  ctx.client.check("profile change accepted", reply.status === 200 || reply.status === 202)
}

export const transactions = async (ctx: Context, session: Session, accountId: string): Promise<void> => {
  const path = pathOf("listTransactions", { id: accountId })
  const first = await authed(ctx, session, { method: "GET", path, name: "transactions" })
  ctx.client.check("transactions page", first.status === 200)
  const body = first.json()
  const cursor = isRecord(body) ? text(body.nextCursor ?? body.cursor) : undefined
  if (first.status !== 200 || cursor === undefined) return
  const next = await authed(ctx, session, {
    method: "GET",
    path: `${path}?cursor=${encodeURIComponent(cursor)}`,
    name: "transactions"
  })
  ctx.client.check("next transactions page", next.status === 200)
}

/** Transfers move money between current and savings accounts (`deposits:…` account ids). */
const isDeposit = (account: Account): boolean => account.id.startsWith("deposits:")

/** A small transfer between two of the customer's deposit accounts in one currency, when it has two. */
export const transfer = async (ctx: Context, session: Session): Promise<boolean> => {
  const accounts = (session.accounts ?? []).filter((a) => a.currency !== undefined && isDeposit(a))
  const from = pick(accounts)
  const to = from && pick(accounts.filter((a) => a.id !== from.id && a.currency === from.currency))
  if (!from || !to) return false
  const reply = await authed(ctx, session, {
    method: "POST",
    path: pathOf("createTransfer", {}),
    name: "transfer",
    headers: { "Idempotency-Key": randomId() },
    // "1" is valid in every currency, whatever its decimals.
    body: {
      fromAccountId: from.id,
      toAccountId: to.id,
      amount: { amount: "1", currency: from.currency! },
      reference: "load test"
    } satisfies Operations["createTransfer"]["body"],
    expect: [202]
  })
  const body = reply.json()
  const id = isRecord(body) ? text(body.transferId ?? body.id) : undefined
  ctx.client.check("transfer accepted", reply.status === 202 && id !== undefined)
  if (id === undefined) return true
  const status = await authed(ctx, session, {
    method: "GET",
    path: pathOf("getTransfer", { id }),
    name: "transfer-status"
  })
  ctx.client.check("transfer status readable", status.status === 200)
  return true
}

export const refresh = async (ctx: Context, session: Session): Promise<void> => {
  const reply = await ctx.client.request({
    method: "POST",
    path: pathOf("refresh", {}),
    name: "refresh",
    body: { refreshToken: session.refreshToken } satisfies Operations["refresh"]["body"],
    headers: { "X-Forwarded-For": addressOf(session.user) }
  })
  const body = reply.json()
  const ok = reply.status === 200 && isRecord(body) && typeof body.accessToken === "string"
  ctx.client.check("refresh answers a new pair", ok)
  if (!ok || !isRecord(body)) {
    ctx.state.session = undefined
    return
  }
  ctx.state.session = { ...session, accessToken: String(body.accessToken), refreshToken: String(body.refreshToken) }
}

export const logout = async (ctx: Context, session: Session): Promise<void> => {
  const reply = await authed(ctx, session, {
    method: "POST",
    path: pathOf("logout", {}),
    name: "logout",
    expect: [204]
  })
  ctx.client.check("logout answers 204", reply.status === 204)
  ctx.state.session = undefined
}
