// The edge ceiling, part 2: a plain Hono route on @hono/node-server, the framework and adapter
// the edge uses, without any of the edge's middleware or Effect. Prints `listening <port>`.
import { serve } from "@hono/node-server"
import { Hono } from "hono"

const app = new Hono()
app.get("/noop", (c) => c.json({ ok: true }))
const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
  console.log(`listening ${info.port}`)
)
process.on("SIGTERM", () => server.close(() => process.exit(0)))
