// HTTP measurements for the benchmark: throughput with autocannon (a load generator far cheaper
// per request than node:http's client, which matters when it shares two cores with the server),
// latency with microsecond resolution (autocannon's own histogram counts whole milliseconds, so
// every response time is also recorded in load/engine's Histogram), and the child processes that
// serve the reference routes.
import autocannon from "autocannon"
import { spawn, type ChildProcess } from "node:child_process"
import { createConnection, type Socket } from "node:net"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Histogram } from "../../load/engine/Histogram.ts"

const root = fileURLToPath(new URL("../..", import.meta.url))

export interface Latency {
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

export interface LoadResult {
  /** Answers with an expected status per second. */
  readonly perSecond: number
  readonly ok: number
  readonly unexpected: number
  readonly errors: number
  readonly seconds: number
  /** Of the expected answers, milliseconds. */
  readonly latency: Latency
  readonly statuses: Readonly<Record<string, number>>
}

export interface LoadOptions {
  readonly url: string
  readonly method?: "GET" | "POST"
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
  /** Changes each request before it is sent (a different token or username each time; a path too). */
  readonly vary?: (request: { headers: Record<string, string>; body?: string }) => {
    headers: Record<string, string>
    body?: string
    path?: string
  }
  /** Hears each answer's status and headers (names as the server sent them). */
  readonly onResponse?: (status: number, headers: Readonly<Record<string, string>>) => void
  readonly connections: number
  readonly seconds: number
  /** Requests per second for all connections together; unlimited when absent. */
  readonly rate?: number
  readonly expect?: ReadonlyArray<number>
}

export const latencyOf = (h: Histogram): Latency => ({
  p50: h.percentile(50) / 1000,
  p90: h.percentile(90) / 1000,
  p99: h.percentile(99) / 1000,
  max: h.max / 1000,
  mean: h.mean / 1000
})

/** The answers of one run as they come: counted by status, the expected ones timed. */
const tally = (expect: ReadonlyArray<number> = [200]) => {
  const histogram = new Histogram()
  const statuses: Record<string, number> = {}
  let ok = 0
  let unexpected = 0
  const started = performance.now()
  return {
    answer(status: number, micros: number) {
      statuses[status] = (statuses[status] ?? 0) + 1
      if (expect.includes(status)) {
        ok += 1
        histogram.record(micros)
      } else unexpected += 1
    },
    result(errors: number): LoadResult {
      const seconds = (performance.now() - started) / 1000
      return { perSecond: ok / seconds, ok, unexpected, errors, seconds, latency: latencyOf(histogram), statuses }
    }
  }
}

/** One autocannon run. */
export const load = (o: LoadOptions): Promise<LoadResult> =>
  new Promise((resolve, reject) => {
    const url = new URL(o.url)
    const answers = tally(o.expect)
    const baseHeaders = { ...(o.body !== undefined ? { "content-type": "application/json" } : {}), ...o.headers }
    const request: autocannon.Request = {
      method: o.method ?? "GET",
      path: `${url.pathname}${url.search}`,
      headers: baseHeaders,
      ...(o.body !== undefined ? { body: o.body } : {}),
      ...(o.vary
        ? {
            setupRequest: (req: autocannon.Request) => {
              const varied = o.vary!({ headers: { ...baseHeaders }, ...(o.body !== undefined ? { body: o.body } : {}) })
              return {
                ...req,
                headers: varied.headers,
                ...(varied.body !== undefined ? { body: varied.body } : {}),
                ...(varied.path !== undefined ? { path: varied.path } : {})
              }
            }
          }
        : {}),
      ...(o.onResponse
        ? {
            onResponse: (status: number, _body: string, _context: unknown, headers: unknown) =>
              o.onResponse!(status, (headers ?? {}) as Record<string, string>)
          }
        : {})
    }
    const instance = autocannon(
      {
        url: url.origin,
        connections: o.connections,
        duration: o.seconds,
        requests: [request],
        timeout: 30,
        ...(o.rate ? { overallRate: o.rate } : {})
      },
      (error, result) => (error ? reject(error) : resolve(answers.result(result.errors + result.timeouts)))
    )
    instance.on("response", (_client, status, _bytes, responseTime) => answers.answer(status, responseTime * 1000))
  })

/** Requests one after another on one connection: the latency of a route when nothing queues. */
export const sequential = async (o: Omit<LoadOptions, "connections" | "rate">): Promise<LoadResult> =>
  load({ ...o, connections: 1 })

/** The end of one HTTP/1.1 response at the start of `buffer`: its status and length, or undefined while incomplete. */
export const responseEnd = (buffer: Buffer): { status: number; length: number } | undefined => {
  const head = buffer.indexOf("\r\n\r\n")
  if (head < 0) return undefined
  const headers = buffer.toString("latin1", 0, head)
  const status = Number(headers.slice(9, 12))
  const length = /\r\ncontent-length:[ ]*(\d+)/i.exec(headers)?.[1]
  if (length !== undefined) {
    const end = head + 4 + Number(length)
    return buffer.length >= end ? { status, length: end } : undefined
  }
  if (!/\r\ntransfer-encoding:[ ]*chunked/i.test(headers)) return { status, length: head + 4 }
  let at = head + 4
  for (;;) {
    const line = buffer.indexOf("\r\n", at)
    if (line < 0) return undefined
    const size = Number.parseInt(buffer.toString("latin1", at, line), 16)
    at = line + 2 + size + 2
    if (buffer.length < at) return undefined
    if (size === 0) return { status, length: at }
  }
}

/**
 * Requests at an even pace (an open model, as wrk2 and k6's constant-arrival-rate): request i is
 * due at start + i/rate; a timer every millisecond releases those due, and each is timed from
 * its release until its response has arrived whole, not from when a connection was free, so a
 * server that falls behind is not let off by the generator waiting for it. (Timing from the
 * ideal due time instead would add the timer's own lateness, up to a millisecond, to every
 * request.) autocannon's `rate` is different: each connection sends its share of the
 * second as fast as it can and then waits for the next second, which is saturation in bursts,
 * not half the load. Raw keep-alive sockets (up to `connections`, one request at a time each)
 * and a minimal response reader keep the generator's own CPU per request near autocannon's.
 */
export const paced = (
  o: Omit<LoadOptions, "rate" | "method" | "body"> & { readonly rate: number }
): Promise<LoadResult> =>
  new Promise((resolve) => {
    const url = new URL(o.url)
    const answers = tally(o.expect)
    let errors = 0
    let sent = 0
    let finished = 0
    const total = Math.floor(o.rate * o.seconds)
    const interval = 1000 / o.rate
    const started = performance.now()
    const requestText = () => {
      const varied = o.vary?.({ headers: { ...o.headers } })
      const lines = Object.entries(varied?.headers ?? o.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`)
      return `GET ${varied?.path ?? `${url.pathname}${url.search}`} HTTP/1.1\r\nhost: ${url.host}\r\n${lines.join("")}\r\n`
    }
    interface Connection {
      readonly socket: Socket
      buffer: Buffer
      due: number
      busy: boolean
    }
    const due: Array<number> = []
    const idle: Array<Connection> = []
    let open = 0
    const finish = () => {
      if (finished < total) return
      clearInterval(tick)
      for (const c of idle) c.socket.destroy()
      resolve(answers.result(errors))
    }
    const next = (c: Connection) => {
      const at = due.shift()
      if (at === undefined) return void idle.push(c)
      c.due = at
      c.busy = true
      c.socket.write(requestText())
    }
    const connect = () => {
      open += 1
      const c: Connection = {
        socket: createConnection({ host: url.hostname, port: Number(url.port) }),
        buffer: Buffer.alloc(0),
        due: 0,
        busy: false
      }
      c.socket.setNoDelay(true)
      c.socket.on("connect", () => next(c))
      c.socket.on("data", (chunk: Buffer) => {
        c.buffer = c.buffer.length === 0 ? chunk : Buffer.concat([c.buffer, chunk])
        const end = responseEnd(c.buffer)
        if (!end) return
        c.buffer = c.buffer.subarray(end.length)
        c.busy = false
        answers.answer(end.status, (performance.now() - c.due) * 1000)
        finished += 1
        next(c)
        finish()
      })
      c.socket.on("error", () => {})
      c.socket.on("close", () => {
        open -= 1
        const waiting = idle.indexOf(c)
        if (waiting >= 0) idle.splice(waiting, 1)
        if (c.busy) {
          // The request in flight on it is lost: an error, as a timeout would be.
          errors += 1
          finished += 1
          finish()
        }
        if (due.length > 0 && open < o.connections) connect()
      })
    }
    const tick = setInterval(() => {
      const now = performance.now()
      while (sent < total && started + sent * interval <= now) {
        sent += 1
        due.push(now)
        const c = idle.pop()
        if (c) next(c)
        else if (open < o.connections) connect()
      }
    }, 1)
  })

export interface Server {
  readonly url: string
  /** The server's process, for its CPU time (/proc). */
  readonly pid: number
  stop(): Promise<void>
}

/** Starts `node --import tsx <file>` and waits for its `listening <port>` line. */
export const startServer = (
  file: string,
  env: Readonly<Record<string, string>> = {},
  log?: (line: string) => void
): Promise<Server> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const exited = new Promise<void>((r) => child.once("exit", () => r()))
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
      const done = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref())
      ])
      if (!done) child.kill("SIGKILL")
    }
    process.once("exit", () => child.kill("SIGKILL"))
    createInterface({ input: child.stderr! }).on("line", (line) => log?.(line))
    // Cleared once it listens: a server measured for longer than this must not be stopped by it.
    const deadline = setTimeout(() => {
      void stop()
      reject(new Error(`${file} did not listen within 60 s`))
    }, 60_000).unref()
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const port = /^listening (\d+)$/.exec(line)?.[1]
      if (port) {
        clearTimeout(deadline)
        resolve({ url: `http://127.0.0.1:${port}`, pid: child.pid!, stop })
      } else log?.(line)
    })
    void exited.then(() => reject(new Error(`${file} exited before it listened`)))
  })
