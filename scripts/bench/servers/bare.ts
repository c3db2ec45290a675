// The edge ceiling, part 1: the cheapest HTTP answer Node gives on this machine (node:http, no
// framework), with the same small JSON body as every other no-op route of the benchmark; with
// BODY_BYTES set, a JSON body of about that size instead (the floor of the dashboard's latency:
// measure/Dashboard.ts). Prints `listening <port>` once it accepts connections.
import { createServer } from "node:http"

const padding = Math.max(0, Number(process.env.BODY_BYTES ?? 0) - 20)
const body = JSON.stringify(padding > 0 ? { ok: true, padding: "x".repeat(padding) } : { ok: true })
const server = createServer((_request, response) => {
  response.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) })
  response.end(body)
})
server.keepAliveTimeout = 65_000
server.listen(0, "127.0.0.1", () => {
  const address = server.address()
  console.log(`listening ${typeof address === "object" && address ? address.port : 0}`)
})
process.on("SIGTERM", () => server.close(() => process.exit(0)))
