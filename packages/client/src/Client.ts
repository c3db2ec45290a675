// The typed client: one function per operation of the API table generated from /openapi.json
// (generated.ts), so a call's path parameters, query, headers, body and every documented answer
// are typed by the API definition itself. No dependency: `fetch` only (browsers, Node, the web
// app); the load runner and k6 use `pathOf` with their own HTTP clients.
import { type OperationId, type Operations, operations } from "./generated.ts"

// biome-ignore lint/complexity/noBannedTypes: `{} extends T` asks whether every field of T is optional.
type Part<T, Name extends string> = {} extends T ? { readonly [K in Name]?: T } : { readonly [K in Name]: T }

/** What a call takes: the operation's path parameters, query, headers and body, each typed. */
export type Input<K extends OperationId> = Part<Operations[K]["path"], "path"> &
  Part<Operations[K]["query"], "query"> &
  Part<Operations[K]["headers"], "headers"> &
  (Operations[K]["body"] extends undefined
    ? { readonly body?: undefined }
    : { readonly body: Operations[K]["body"] }) & { readonly signal?: AbortSignal }

/** An answer, discriminated by its status: the body's type is the one documented for it. */
export type Answer<K extends OperationId> = {
  [S in keyof Operations[K]["answers"]]: {
    readonly status: S
    readonly body: Operations[K]["answers"][S]
    readonly headers: Headers
  }
}[keyof Operations[K]["answers"]]

/** The operation's URL path with its parameters filled in and its query appended. */
export const pathOf = <K extends OperationId>(
  id: K,
  path?: Operations[K]["path"],
  query?: Operations[K]["query"]
): string => {
  const filled = operations[id].path.replace(/\{([^}]+)\}/g, (_, p: string) =>
    encodeURIComponent(String((path as Record<string, string>)[p]))
  )
  const search = new URLSearchParams(
    Object.entries(query ?? {}).filter(([, v]) => v !== undefined) as Array<[string, string]>
  ).toString()
  return search === "" ? filled : `${filled}?${search}`
}

export interface ClientOptions {
  /** Where the API is ("" for the origin the page came from). */
  readonly baseUrl?: string
  /** The access token of the calls that need one. */
  readonly token?: () => string | undefined
  readonly fetch?: typeof globalThis.fetch
}

export type Client = <K extends OperationId>(id: K, input: Input<K>) => Promise<Answer<K>>

export const createClient = (options: ClientOptions = {}): Client => {
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args))
  return async (id, input) => {
    const op = operations[id]
    const i = input as {
      path?: never
      query?: never
      headers?: Record<string, string>
      body?: unknown
      signal?: AbortSignal
    }
    const headers: Record<string, string> = { ...i.headers }
    const token = options.token?.()
    if (op.authenticated && token !== undefined) headers.Authorization = `Bearer ${token}`
    if (i.body !== undefined) headers["Content-Type"] = "application/json"
    const response = await doFetch(`${options.baseUrl ?? ""}${pathOf(id, i.path, i.query)}`, {
      method: op.method,
      headers,
      ...(i.body !== undefined ? { body: JSON.stringify(i.body) } : {}),
      ...(i.signal ? { signal: i.signal } : {})
    })
    const text = response.status === 204 ? "" : await response.text()
    const json = response.headers.get("content-type")?.includes("json") ?? false
    return {
      status: response.status,
      headers: response.headers,
      body: text === "" ? undefined : json ? JSON.parse(text) : text
    } as Answer<typeof id>
  }
}
