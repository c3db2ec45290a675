// `npm run load -- <scenario> [flags]`: the k6 scenarios of load/scenarios.json driven from Node,
// for machines without k6. Same parameters, same flows (load/flows), same metric names and
// threshold expressions; exits 99 when a threshold fails (as k6 does), 0 when all hold.
//
//   --base-url URL     the edge (default: BASE_URL, else scenarios.json's baseUrl)
//   --scale N          multiplies every rate and VU count (default: SCALE, else 1)
//   --duration-scale F multiplies every duration (default: DURATION_SCALE, else 1)
//   --users N          demo users demo1 ... demoN (default: USERS, else scenarios.json)
//   --no-simulator     do not start the core-banking simulator for scenarios that want one
//   --json FILE        also write the summary as JSON
//   --list             the scenarios and what they do
//
// A scenario with `simulator` (mixed-day) starts scripts/simulate.ts at that rate for the run's
// length when DATABASE_URL is set; without it, it says so and runs without.
import { spawn, type ChildProcess } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { CommandLine } from "@bank/platform"
import { flows } from "./flows/Flows.ts"
import { numberFrom, parseParams, resolve, totalSeconds } from "./flows/Params.ts"
import { run } from "./engine/Executors.ts"
import { makeClient } from "./engine/HttpClient.ts"
import { Metrics } from "./engine/Metrics.ts"
import { render, toJson } from "./engine/Summary.ts"
import { evaluate, validate } from "./engine/Thresholds.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
const { values, positionals } = CommandLine.parse({
  name: "npm run load --",
  summary: "Run a load scenario (load/scenarios.json) against the edge from Node, with k6's summary and thresholds.",
  usage: "<scenario> [flags]",
  options: {
    "base-url": { type: "string", value: "URL", description: "the edge (default BASE_URL or http://127.0.0.1:3000)" },
    scale: { type: "string", value: "N", description: "multiplies every rate and VU count" },
    "duration-scale": { type: "string", value: "F", description: "multiplies every duration" },
    users: { type: "string", value: "N", description: "demo users demo1 ... demoN" },
    "no-simulator": { type: "boolean", description: "do not start scripts/simulate.ts for mixed-day" },
    json: { type: "string", value: "FILE", description: "also write the summary as JSON" },
    list: { type: "boolean", description: "the scenarios and what they do" }
  },
  positionals: { max: 1 }
})

const params = parseParams(readFileSync(new URL("./scenarios.json", import.meta.url), "utf8"))
const name = positionals[0]
if (values.list || name === undefined) {
  console.log("scenarios (load/scenarios.json):")
  for (const [n, s] of Object.entries(params.scenarios)) console.log(`  ${n.padEnd(18)} ${s.description}`)
  console.log(
    "\nnpm run load -- <scenario> [--base-url URL] [--scale N] [--duration-scale F] [--users N] [--json FILE]"
  )
  process.exit(name === undefined && !values.list ? 2 : 0)
}

let resolved
try {
  resolved = resolve(params, name, {
    baseUrl: values["base-url"] ?? process.env.BASE_URL,
    scale: numberFrom(values.scale ?? process.env.SCALE, "--scale"),
    durationScale: numberFrom(values["duration-scale"] ?? process.env.DURATION_SCALE, "--duration-scale"),
    users: numberFrom(values.users ?? process.env.USERS, "--users")
  })
  validate(resolved.scenario.thresholds)
} catch (error) {
  console.error(`load: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(2)
}
const { scenario, baseUrl } = resolved
const length = totalSeconds(scenario.executor)

const reachable = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(3000) }).then(
  (r) => r.ok,
  () => false
)
if (!reachable) {
  console.error(`load: ${baseUrl}/healthz does not answer; start the system first (npm start) or pass --base-url`)
  process.exit(2)
}

let simulator: ChildProcess | undefined
if (scenario.simulator && !values["no-simulator"]) {
  if (process.env.DATABASE_URL) {
    simulator = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "scripts/simulate.ts",
        "--rate",
        String(scenario.simulator.rate),
        "--duration",
        `${Math.ceil(length)}s`
      ],
      {
        cwd: root,
        env: process.env,
        stdio: ["ignore", "ignore", "inherit"]
      }
    )
    console.error(`load: core-banking simulator writing ${scenario.simulator.rate} activities/s meanwhile`)
  } else {
    console.error(
      `load: this scenario wants the simulator at ${scenario.simulator.rate}/s; set DATABASE_URL to start it, or run scripts/simulate.ts yourself`
    )
  }
}

const metrics = new Metrics(Object.keys(scenario.thresholds))
const abort = new AbortController()
const stop = new AbortController()
process.once("SIGINT", () => {
  console.error("\nload: stopping early (Ctrl-C again to quit at once)")
  stop.abort()
  process.once("SIGINT", () => process.exit(130))
})
const client = makeClient({ baseUrl, metrics, signal: abort.signal })

console.error(`load: ${name} (${scenario.executor.type}, ${length.toFixed(0)} s) against ${baseUrl}`)
let lastReport = 0
await run({
  executor: scenario.executor,
  flow: flows[scenario.flow],
  client,
  metrics,
  users: resolved.users,
  options: scenario.options,
  abort,
  stop: stop.signal,
  onTick: (elapsed, vus) => {
    if (elapsed - lastReport < 5) return
    lastReport = elapsed
    const reqs = metrics.get("http_reqs")!.value
    const failed = metrics.get("http_req_failed")!
    const p95 = metrics.get("http_req_duration")!.histogram.percentile(95) / 1000
    console.error(
      `load: ${elapsed.toFixed(0).padStart(4)}s/${length.toFixed(0)}s  vus ${vus}  reqs ${reqs} (${(reqs / elapsed).toFixed(0)}/s)  failed ${failed.passes}  p(95) ${p95.toFixed(1)}ms`
    )
  }
})
metrics.endedAt = performance.now()
client.close()
if (simulator && simulator.exitCode === null) {
  // Its own summary first, so ours is the last thing on the screen.
  const exited = new Promise((r) => simulator!.once("exit", r))
  simulator.kill("SIGINT")
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())])
}

const verdicts = evaluate(metrics, scenario.thresholds)
console.log(`\nscenario ${name}: ${scenario.description}\n`)
console.log(render(metrics, verdicts))
if (values.json)
  writeFileSync(values.json, `${JSON.stringify({ scenario: name, baseUrl, ...toJson(metrics, verdicts) }, null, 2)}\n`)
const failedThresholds = verdicts.filter((v) => !v.ok).length
if (failedThresholds > 0) console.log(`\n${failedThresholds} threshold(s) crossed`)
process.exit(failedThresholds > 0 ? 99 : 0)
