// `npx tsx scripts/bench/edgeStep.ts [flags]`: where the edge's CPU per request goes on a route
// that runs no Effect (not a test; issue 12). Starts scripts/bench/servers/edgeStep.ts once per
// variant (plain Hono, the real edge app, plain Hono plus one piece of the request step at a
// time, ...), drives `GET /healthz` on each with the same autocannon in interleaved rounds (the
// order alternating), and prints one markdown table: the best round of each, its rate and CPU per
// request (the server process's user + system time from /proc over the answered requests), both
// as ratios to plain Hono measured in the same run. Needs no Redis or PostgreSQL.
//
//   --variants a,b    VARIANTs of servers/edgeStep.ts (default: node, hono, edge, and the step's
//                     pieces added one at a time)
//   --seconds S       length of each run (default 4), after --warmup W (default 1)
//   --connections C   keep-alive connections (default 32)
//   --rounds R        interleaved rounds (default 2)
import { CommandLine } from "@bank/platform"
import { startServer, type Server } from "./Http.ts"
import { numberOf, runOptions } from "./RunOptions.ts"
import { interleaved, type Route, type Target } from "./measure/EdgeReads.ts"

const { values } = CommandLine.parse({
  name: "npx tsx scripts/bench/edgeStep.ts",
  summary: "The edge's request step against plain Hono on GET /healthz, one piece at a time, interleaved.",
  options: {
    variants: { type: "string", value: "LIST", description: "server variants (see servers/edgeStep.ts)" },
    ...runOptions({ seconds: 4, warmup: 1, connections: 32 }),
    rounds: { type: "string", value: "N", description: "interleaved rounds (default 2)" }
  }
})
const number = (flag: string, text: string | undefined, fallback: number) => numberOf("edgeStep", flag, text, fallback)
const variants = (
  values.variants ??
  "node,hono,step:pass,step:then,step:then,id,step:then,id,touch,step:then,id,headers,step:then,id,headers,metric,edge"
)
  // `step:a,b` carries commas of its own: a new variant starts at a name that is not a piece.
  .split(/,(?=node|hono|edge|step:)/)
const ctx = {
  seconds: number("seconds", values.seconds, 4),
  warmupSeconds: number("warmup", values.warmup, 1),
  connections: number("connections", values.connections, 32),
  tokens: [] as Array<string>,
  accounts: []
}
const route: Route = { name: "healthz", path: "/healthz", target: 0.8, authenticated: false }

const servers: Array<Server & Target> = []
try {
  for (const variant of variants) {
    const server = await startServer("scripts/bench/servers/edgeStep.ts", { VARIANT: variant }, (line) =>
      console.error(`${variant} | ${line}`)
    )
    servers.push({ ...server, label: variant })
  }
  const best = await interleaved(
    ctx,
    servers,
    [route],
    number("rounds", values.rounds, 2),
    (round, _route, target, m) =>
      console.error(
        `round ${round + 1} ${target.label}: ${m.result.perSecond.toFixed(0)} req/s, ${m.cpuMicros.toFixed(1)} µs CPU/request`
      )
  )
  const hono = best.get("healthz hono")
  const lines = ["| variant | req/s | µs CPU/request | rate / hono | CPU / hono |", "|---|---:|---:|---:|---:|"]
  for (const server of servers) {
    const m = best.get(`healthz ${server.label}`)!
    lines.push(
      `| ${server.label} | ${m.result.perSecond.toFixed(0)} | ${m.cpuMicros.toFixed(1)} | ${hono ? (m.result.perSecond / hono.result.perSecond).toFixed(2) : "-"}× | ${hono ? (m.cpuMicros / hono.cpuMicros).toFixed(2) : "-"}× |`
    )
  }
  console.log(lines.join("\n"))
} finally {
  for (const server of servers) await server.stop()
}
process.exit(0)
