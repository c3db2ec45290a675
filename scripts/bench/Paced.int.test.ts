// Http.paced, the evenly paced load of the benchmark's "p99 at half its peak rate", against a
// real node:http server: every request is sent and its answer read whole (fixed length and
// chunked), requests go out at the asked rate, and a server that stalls is charged the time the
// requests waited for a connection (the open model), not let off.
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { paced, responseEnd } from "./Http.ts"

let server: Server
let base = ""
let stallUntil = 0
const arrivals: Array<number> = []

beforeAll(async () => {
  server = createServer((request, response) => {
    arrivals.push(performance.now())
    const answer = () => {
      if (request.url === "/chunked") {
        response.writeHead(200, { "Content-Type": "application/json" })
        response.write('{"part":1,')
        response.end('"part2":"two"}')
      } else if (request.url === "/missing") response.writeHead(404).end("no")
      else response.writeHead(200, { "Content-Length": "11" }).end('{"ok":true}')
    }
    const wait = request.url === "/slow" ? 30 : Math.max(0, stallUntil - performance.now())
    if (wait > 0) setTimeout(answer, wait)
    else answer()
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe("paced", () => {
  it("sends rate × seconds requests, evenly, and reads fixed-length and chunked answers whole", async () => {
    arrivals.length = 0
    const fixed = await paced({ url: `${base}/ok`, rate: 200, seconds: 1, connections: 4 })
    expect(fixed).toMatchObject({ ok: 200, unexpected: 0, errors: 0, statuses: { 200: 200 } })
    // Even: no 100 ms of the run got more than a quarter of the requests (a burst would).
    const first = arrivals[0]!
    const perTenth = new Map<number, number>()
    for (const at of arrivals)
      perTenth.set(Math.floor((at - first) / 100), (perTenth.get(Math.floor((at - first) / 100)) ?? 0) + 1)
    expect(Math.max(...perTenth.values())).toBeLessThan(50)

    const chunked = await paced({ url: `${base}/chunked`, rate: 100, seconds: 1, connections: 2 })
    expect(chunked).toMatchObject({ ok: 100, unexpected: 0, errors: 0 })
    const missing = await paced({ url: `${base}/missing`, rate: 50, seconds: 1, connections: 2 })
    expect(missing).toMatchObject({ ok: 0, unexpected: 50, statuses: { 404: 50 } })
  })

  it("times each request to its whole answer", async () => {
    const slow = await paced({ url: `${base}/slow`, rate: 50, seconds: 1, connections: 8 })
    expect(slow.ok).toBe(50)
    expect(slow.latency.p50).toBeGreaterThanOrEqual(29)
    expect(slow.latency.p50).toBeLessThan(200)
  })

  it("charges a stalled server the time requests waited for a connection", async () => {
    stallUntil = performance.now() + 400
    const stalled = await paced({ url: `${base}/ok`, rate: 100, seconds: 1, connections: 2 })
    stallUntil = 0
    expect(stalled.ok).toBe(100)
    // The two connections were held for 400 ms; the requests released meanwhile waited for them.
    expect(stalled.latency.max).toBeGreaterThanOrEqual(350)
    // About 40 of the 100 were released during the stall: well over a tenth waited long.
    expect(stalled.latency.p90).toBeGreaterThan(100)
  })
})

describe("responseEnd", () => {
  const bytes = (text: string) => Buffer.from(text, "latin1")
  it("finds the end of a fixed-length, a chunked and a bodiless answer, and waits for more otherwise", () => {
    expect(responseEnd(bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))).toEqual({ status: 200, length: 40 })
    expect(responseEnd(bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no"))).toBeUndefined()
    const chunked = "HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    expect(responseEnd(bytes(`${chunked}HTTP/1.1`))).toEqual({ status: 201, length: chunked.length })
    expect(responseEnd(bytes(chunked.slice(0, -2)))).toBeUndefined()
    const bodiless = "HTTP/1.1 204 No Content\r\nX: y\r\n\r\n"
    expect(responseEnd(bytes(bodiless))).toEqual({ status: 204, length: bodiless.length })
    expect(responseEnd(bytes("HTTP/1.1 200 OK\r\nContent-Le"))).toBeUndefined()
  })
})
