// The end-of-run summary of the Node runner, laid out like k6's: the request metrics (overall and
// per request name), checks, iterations and VUs, then every threshold with ✓ or ✗ and the value
// it was judged on. Also as JSON, for scripts that compare runs.
import type { Metrics, Series } from "./Metrics.ts"
import { aggregate, type Verdict } from "./Thresholds.ts"

const ms = (micros: number) =>
  micros >= 10_000 ? `${(micros / 1000).toFixed(0)}ms` : `${(micros / 1000).toFixed(2)}ms`
const pct = (x: number) => `${(x * 100).toFixed(2)}%`

const trendLine = (s: Series) => {
  const h = s.histogram
  return `avg=${ms(h.mean)} min=${ms(h.min)} med=${ms(h.percentile(50))} p(95)=${ms(h.percentile(95))} p(99)=${ms(h.percentile(99))} max=${ms(h.max)}  n=${h.count}`
}

const named = (metrics: Metrics, metric: string) =>
  metrics
    .all()
    .filter((s) => s.key.metric === metric && Object.keys(s.key.filter).length === 1 && s.key.filter.name !== undefined)
    .sort((a, b) => a.key.filter.name!.localeCompare(b.key.filter.name!))

export const render = (metrics: Metrics, verdicts: ReadonlyArray<Verdict>): string => {
  const lines: Array<string> = []
  const get = (name: string) => metrics.get(name)!
  const seconds = metrics.seconds
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(34, ".")} ${value}`)
  const reqs = get("http_reqs").value
  const failed = get("http_req_failed")
  row("http_reqs", `${reqs}  ${(reqs / seconds).toFixed(1)}/s`)
  row(
    "http_req_failed",
    `${pct(failed.total ? failed.passes / failed.total : 0)}  (${failed.passes} of ${failed.total})`
  )
  row("http_req_duration", trendLine(get("http_req_duration")))
  for (const s of named(metrics, "http_req_duration")) {
    const f = metrics.get(`http_req_failed{name:${s.key.filter.name}}`)
    const failures = f && f.passes > 0 ? `  failed ${f.passes}` : ""
    row(`  {name:${s.key.filter.name}}`, trendLine(s) + failures)
  }
  const checks = get("checks")
  row(
    "checks",
    `${pct(checks.total ? checks.passes / checks.total : 1)}  (${checks.total - checks.passes} of ${checks.total} failed)`
  )
  row("iterations", `${get("iterations").value}  ${(get("iterations").value / seconds).toFixed(1)}/s`)
  row("iteration_duration", trendLine(get("iteration_duration")))
  row("dropped_iterations", String(get("dropped_iterations").value))
  row("vus_max", String(get("vus_max").value))
  lines.push("", "thresholds:")
  for (const v of verdicts) {
    const actual = v.actual === undefined ? "no samples" : Number(v.actual.toFixed(4)).toString()
    lines.push(`  ${v.ok ? "✓" : "✗"} ${v.series} ${v.expression}   (${actual})`)
  }
  if (verdicts.length === 0) lines.push("  (none)")
  return lines.join("\n")
}

/** The figures as JSON: per series its aggregates (milliseconds for trends). */
export const toJson = (metrics: Metrics, verdicts: ReadonlyArray<Verdict>) => ({
  seconds: metrics.seconds,
  metrics: Object.fromEntries(
    metrics.all().map((s) => {
      const stats =
        s.kind === "trend"
          ? ["avg", "min", "med", "p(95)", "p(99)", "max"]
          : s.kind === "rate"
            ? ["rate"]
            : s.kind === "counter"
              ? ["count", "rate"]
              : ["value"]
      const values = Object.fromEntries(stats.map((stat) => [stat, aggregate(s, stat, metrics.seconds)]))
      return [
        s.key.metric +
          (Object.keys(s.key.filter).length
            ? `{${Object.entries(s.key.filter)
                .map(([k, v]) => `${k}:${v}`)
                .join(",")}}`
            : ""),
        {
          kind: s.kind,
          ...values,
          ...(s.kind === "trend"
            ? { count: s.histogram.count }
            : s.kind === "rate"
              ? { passes: s.passes, total: s.total }
              : {})
        }
      ]
    })
  ),
  thresholds: verdicts
})
