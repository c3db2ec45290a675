// The metrics of a Node load run, named and tagged as k6 names them, so the thresholds in
// load/scenarios.json mean the same in both runtimes:
//   http_req_duration (trend, ms)   http_req_failed (rate)   http_reqs (counter)
//   checks (rate)                   iterations (counter)     iteration_duration (trend, ms)
//   dropped_iterations (counter)    vus / vus_max (gauge)
// Requests carry the tags name, method, status and expected_response; checks carry `check`.
// A sub-metric such as `http_req_duration{name:login}` is a series of its own, fed by every
// sample whose tags match; the summary adds one per request name by itself.
import { Histogram } from "./Histogram.ts"

export type Kind = "trend" | "rate" | "counter" | "gauge"

export const kinds: Readonly<Record<string, Kind>> = {
  http_req_duration: "trend",
  iteration_duration: "trend",
  http_req_failed: "rate",
  checks: "rate",
  http_reqs: "counter",
  iterations: "counter",
  dropped_iterations: "counter",
  vus: "gauge",
  vus_max: "gauge"
}

export type Tags = Readonly<Record<string, string>>

/** One metric, or a sub-metric of it: `http_req_duration{name:login,status:200}`. */
export interface SeriesKey {
  readonly metric: string
  readonly filter: Tags
}

export const parseSeriesKey = (text: string): SeriesKey => {
  const match = /^([a-z_]+)(?:\{(.*)\})?$/.exec(text.trim())
  if (!match) throw new Error(`not a metric: ${text}`)
  const filter: Record<string, string> = {}
  for (const part of (match[2] ?? "").split(",").filter((p) => p.trim() !== "")) {
    const colon = part.indexOf(":")
    if (colon < 1) throw new Error(`not a tag filter in ${text}: ${part}`)
    filter[part.slice(0, colon).trim()] = part.slice(colon + 1).trim()
  }
  return { metric: match[1]!, filter }
}

export const formatSeriesKey = (key: SeriesKey): string => {
  const tags = Object.entries(key.filter).map(([k, v]) => `${k}:${v}`)
  return tags.length === 0 ? key.metric : `${key.metric}{${tags.join(",")}}`
}

export class Series {
  readonly histogram = new Histogram()
  passes = 0
  total = 0
  value = 0
  constructor(
    readonly key: SeriesKey,
    readonly kind: Kind
  ) {}

  matches(metric: string, tags: Tags): boolean {
    if (metric !== this.key.metric) return false
    for (const [k, v] of Object.entries(this.key.filter)) if (tags[k] !== v) return false
    return true
  }
}

export class Metrics {
  private readonly series = new Map<string, Series>()
  readonly startedAt = performance.now()
  endedAt: number | undefined

  constructor(extra: ReadonlyArray<string> = []) {
    for (const metric of Object.keys(kinds)) this.ensure({ metric, filter: {} })
    for (const text of extra) this.ensure(parseSeriesKey(text))
  }

  ensure(key: SeriesKey): Series {
    const id = formatSeriesKey(key)
    let s = this.series.get(id)
    if (!s) {
      const kind = kinds[key.metric]
      if (!kind) throw new Error(`unknown metric ${key.metric}; known: ${Object.keys(kinds).join(", ")}`)
      s = new Series(key, kind)
      this.series.set(id, s)
    }
    return s
  }

  get(text: string): Series | undefined {
    return this.series.get(formatSeriesKey(parseSeriesKey(text)))
  }

  all(): ReadonlyArray<Series> {
    return [...this.series.values()]
  }

  private add(metric: string, tags: Tags, update: (s: Series) => void): void {
    for (const s of this.series.values()) if (s.matches(metric, tags)) update(s)
  }

  request(sample: {
    readonly name: string
    readonly method: string
    readonly status: number
    readonly micros: number
    readonly ok: boolean
  }): void {
    // Per-name series appear as names are seen, for the summary.
    this.ensure({ metric: "http_req_duration", filter: { name: sample.name } })
    this.ensure({ metric: "http_req_failed", filter: { name: sample.name } })
    const tags = {
      name: sample.name,
      method: sample.method,
      status: String(sample.status),
      expected_response: String(sample.ok)
    }
    this.add("http_reqs", tags, (s) => (s.value += 1))
    this.add("http_req_failed", tags, (s) => {
      s.total += 1
      if (!sample.ok) s.passes += 1
    })
    // As in k6, the summary's http_req_duration has all requests; filter on expected_response:true for successes only.
    this.add("http_req_duration", tags, (s) => s.histogram.record(sample.micros))
  }

  check(name: string, ok: boolean): void {
    this.add("checks", { check: name }, (s) => {
      s.total += 1
      if (ok) s.passes += 1
    })
  }

  iteration(micros: number): void {
    this.add("iterations", {}, (s) => (s.value += 1))
    this.add("iteration_duration", {}, (s) => s.histogram.record(micros))
  }

  dropped(): void {
    this.add("dropped_iterations", {}, (s) => (s.value += 1))
  }

  vus(active: number, allocated: number): void {
    this.add("vus", {}, (s) => (s.value = active))
    this.add("vus_max", {}, (s) => (s.value = Math.max(s.value, allocated)))
  }

  get seconds(): number {
    return ((this.endedAt ?? performance.now()) - this.startedAt) / 1000
  }
}
