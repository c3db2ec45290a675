// The Node runner's side of load/flows/Api.ts: requests over node:http with keep-alive
// connections, each timed from the moment it is sent until its body has been read, and recorded
// in Metrics as k6 records them. A connection error or timeout counts as a failed request with
// status 0, as in k6.
import { Agent, request as httpRequest } from "node:http"
import { Agent as HttpsAgent, request as httpsRequest } from "node:https"
import { setTimeout as sleep } from "node:timers/promises"
import type { Client, Reply, Request } from "../flows/Api.ts"
import type { Metrics } from "./Metrics.ts"

export interface ClientOptions {
  readonly baseUrl: string
  readonly metrics: Metrics
  /** Per request, milliseconds (default 60 s, k6's default). */
  readonly timeoutMs?: number
  /** Stops sleeps early when the run is being cut short. */
  readonly signal?: AbortSignal
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** A client shared by all VUs of a run: one keep-alive pool, as many sockets as VUs want. */
export const makeClient = (options: ClientOptions): Client & { close(): void } => {
  const base = new URL(options.baseUrl)
  const secure = base.protocol === "https:"
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: Infinity })
    : new Agent({ keepAlive: true, maxSockets: Infinity })
  const send = secure ? httpsRequest : httpRequest
  const timeoutMs = options.timeoutMs ?? 60_000
  const prefix = base.pathname.replace(/\/+$/, "")

  const request = (r: Request): Promise<Reply> =>
    new Promise((resolve) => {
      const headers: Record<string, string> = { Accept: "application/json", ...r.headers }
      if (r.token !== undefined) headers.Authorization = `Bearer ${r.token}`
      const body = r.body === undefined ? undefined : JSON.stringify(r.body)
      if (body !== undefined) {
        headers["Content-Type"] = "application/json"
        headers["Content-Length"] = String(Buffer.byteLength(body))
      }
      const expect = r.expect ?? [200]
      const started = performance.now()
      let settled = false
      const finish = (status: number, text: string) => {
        if (settled) return
        settled = true
        const micros = (performance.now() - started) * 1000
        options.metrics.request({ name: r.name, method: r.method, status, micros, ok: expect.includes(status) })
        resolve({ status, json: () => parse(text) })
      }
      const req = send(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path: `${prefix}${r.path}`,
          method: r.method,
          headers,
          agent,
          timeout: timeoutMs
        },
        (res) => {
          const chunks: Array<Buffer> = []
          res.on("data", (chunk: Buffer) => chunks.push(chunk))
          res.on("end", () => finish(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8")))
          res.on("error", () => finish(0, ""))
        }
      )
      req.on("timeout", () => req.destroy(new Error("timeout")))
      req.on("error", () => finish(0, ""))
      req.end(body)
    })

  return {
    request,
    check: (name, ok) => options.metrics.check(name, ok),
    sleep: (seconds) =>
      sleep(seconds * 1000, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined),
    close: () => agent.destroy()
  }
}
