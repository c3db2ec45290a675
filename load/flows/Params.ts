// The scenario parameters of load/scenarios.json, as both runtimes see them: the k6 scripts
// (which read the file with open()) and the Node runner (load/run.ts). Plain TypeScript with no
// imports, because k6 cannot load npm packages and has no Node APIs.
//
// Scaling is the same everywhere: SCALE multiplies every rate and VU count, DURATION_SCALE every
// duration, USERS replaces the number of demo users.

export interface Stage {
  readonly duration: string
  readonly target: number
}

/** k6's executor fields, with `type` for k6's `executor`. */
export type Executor =
  | { readonly type: "constant-vus"; readonly vus: number; readonly duration: string }
  | {
      readonly type: "ramping-vus"
      readonly startVUs?: number
      readonly stages: ReadonlyArray<Stage>
      readonly gracefulRampDown?: string
    }
  | {
      readonly type: "constant-arrival-rate"
      readonly rate: number
      readonly timeUnit?: string
      readonly duration: string
      readonly preAllocatedVUs: number
      readonly maxVUs?: number
    }
  | {
      readonly type: "ramping-arrival-rate"
      readonly startRate?: number
      readonly timeUnit?: string
      readonly stages: ReadonlyArray<Stage>
      readonly preAllocatedVUs: number
      readonly maxVUs?: number
    }

export type FlowName = "loginStorm" | "browse" | "mixedDay" | "spike"

export interface Scenario {
  readonly description: string
  readonly flow: FlowName
  readonly executor: Executor
  /** The flow's own knobs (think time, request mix, shares). */
  readonly options: Readonly<Record<string, unknown>>
  /** Activities per second the core-banking simulator should write meanwhile. */
  readonly simulator?: { readonly rate: number }
  /** k6 threshold expressions by metric, e.g. `"http_req_duration{name:login}": ["p(95)<1000"]`. */
  readonly thresholds: Readonly<Record<string, ReadonlyArray<string>>>
}

export interface Users {
  readonly prefix: string
  readonly count: number
  readonly password: string
}

export interface Params {
  readonly baseUrl: string
  readonly users: Users
  readonly scenarios: Readonly<Record<string, Scenario>>
}

export interface Overrides {
  readonly baseUrl?: string | undefined
  readonly scale?: number | undefined
  readonly durationScale?: number | undefined
  readonly users?: number | undefined
}

const fail = (what: string): never => {
  throw new Error(`load/scenarios.json: ${what}`)
}
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)
const flows: ReadonlyArray<FlowName> = ["loginStorm", "browse", "mixedDay", "spike"]
const executors = ["constant-vus", "ramping-vus", "constant-arrival-rate", "ramping-arrival-rate"]

/** Parses the file's text; throws with the offending field when it is malformed. */
export const parseParams = (text: string): Params => {
  const raw: unknown = JSON.parse(text)
  if (!isObject(raw)) return fail("not an object")
  if (typeof raw.baseUrl !== "string") fail("baseUrl must be a string")
  const users = raw.users
  if (
    !isObject(users) ||
    typeof users.prefix !== "string" ||
    typeof users.count !== "number" ||
    typeof users.password !== "string"
  ) {
    fail("users must be {prefix, count, password}")
  }
  if (!isObject(raw.scenarios)) return fail("scenarios must be an object")
  for (const [name, s] of Object.entries(raw.scenarios)) {
    if (!isObject(s)) return fail(`scenario ${name} is not an object`)
    if (!flows.includes(s.flow as FlowName)) fail(`scenario ${name}: flow must be one of ${flows.join(", ")}`)
    if (!isObject(s.executor) || !executors.includes(s.executor.type as string))
      fail(`scenario ${name}: executor.type must be one of ${executors.join(", ")}`)
    if (!isObject(s.thresholds)) fail(`scenario ${name}: thresholds must be an object`)
    for (const stage of (s.executor as { stages?: Array<unknown> }).stages ?? []) {
      if (!isObject(stage) || typeof stage.target !== "number")
        fail(`scenario ${name}: every stage needs a numeric target`)
      seconds((stage as { duration: string }).duration)
    }
  }
  return raw as unknown as Params
}

/** k6 duration text ("90s", "1m30s", "500ms", "2h") in seconds. */
export const seconds = (duration: unknown): number => {
  if (typeof duration !== "string" || duration.length === 0) return fail(`not a duration: ${String(duration)}`)
  let total = 0
  let rest = duration
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest)
    if (!match) return fail(`not a duration: ${duration}`)
    total += Number(match[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] as "ms" | "s" | "m" | "h"]
    rest = rest.slice(match[0].length)
  }
  return total
}

const durationText = (s: number): string => `${Math.max(0.001, Math.round(s * 1000) / 1000)}s`

/** The executor with rates and VUs multiplied by `scale` and durations by `durationScale`. */
export const scaleExecutor = (e: Executor, scale: number, durationScale: number): Executor => {
  const n = (x: number) => Math.max(1, Math.round(x * scale))
  const d = (x: string) => durationText(seconds(x) * durationScale)
  const stages = (list: ReadonlyArray<Stage>) =>
    list.map((s) => ({ duration: d(s.duration), target: s.target === 0 ? 0 : n(s.target) }))
  switch (e.type) {
    case "constant-vus":
      return { ...e, vus: n(e.vus), duration: d(e.duration) }
    case "ramping-vus":
      return { ...e, startVUs: Math.round((e.startVUs ?? 0) * scale), stages: stages(e.stages) }
    case "constant-arrival-rate":
      return {
        ...e,
        rate: n(e.rate),
        duration: d(e.duration),
        preAllocatedVUs: n(e.preAllocatedVUs),
        ...(e.maxVUs ? { maxVUs: n(e.maxVUs) } : {})
      }
    case "ramping-arrival-rate":
      return {
        ...e,
        startRate: Math.round((e.startRate ?? 0) * scale),
        stages: stages(e.stages),
        preAllocatedVUs: n(e.preAllocatedVUs),
        ...(e.maxVUs ? { maxVUs: n(e.maxVUs) } : {})
      }
  }
}

/** How long the executor runs, in seconds (without any graceful stop). */
export const totalSeconds = (e: Executor): number =>
  "stages" in e ? e.stages.reduce((sum, s) => sum + seconds(s.duration), 0) : seconds(e.duration)

export interface Resolved {
  readonly name: string
  readonly baseUrl: string
  readonly users: Users
  readonly scenario: Scenario
}

/** One scenario with the overrides applied; throws listing the known names when unknown. */
export const resolve = (params: Params, name: string, overrides: Overrides = {}): Resolved => {
  const scenario = params.scenarios[name]
  if (!scenario) return fail(`no scenario "${name}"; known: ${Object.keys(params.scenarios).join(", ")}`)
  const scale = overrides.scale ?? 1
  const durationScale = overrides.durationScale ?? 1
  if (!(scale > 0) || !(durationScale > 0)) fail("SCALE and DURATION_SCALE must be positive numbers")
  return {
    name,
    baseUrl: (overrides.baseUrl ?? params.baseUrl).replace(/\/+$/, ""),
    users: { ...params.users, count: overrides.users ?? params.users.count },
    scenario: {
      ...scenario,
      executor: scaleExecutor(scenario.executor, scale, durationScale),
      ...(scenario.simulator ? { simulator: { rate: Math.max(1, Math.round(scenario.simulator.rate * scale)) } } : {})
    }
  }
}

/** A number from an environment variable, or undefined when unset or empty. */
export const numberFrom = (text: string | undefined, name: string): number | undefined => {
  if (text === undefined || text === "") return undefined
  const n = Number(text)
  if (!Number.isFinite(n)) return fail(`${name} must be a number, got ${text}`)
  return n
}
