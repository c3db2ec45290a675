// k6 threshold expressions, evaluated on the Node runner's metrics exactly as k6 reads them:
//   trend:   avg, min, med, max, p(N)      e.g. "p(95)<500"   (milliseconds)
//   rate:    rate                          e.g. "rate<0.01"
//   counter: count, rate (per second)      e.g. "count<1"
//   gauge:   value
// with <, <=, >, >=, ==, ===, !=.
import { formatSeriesKey, parseSeriesKey, type Metrics, type Series } from "./Metrics.ts"

export interface Verdict {
  readonly series: string
  readonly expression: string
  /** Undefined when the series has no samples. */
  readonly actual: number | undefined
  readonly ok: boolean
}

const comparisons: Record<string, (a: number, b: number) => boolean> = {
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
  "==": (a, b) => a === b,
  "===": (a, b) => a === b,
  "!=": (a, b) => a !== b
}

const EXPRESSION =
  /^\s*(avg|min|med|max|count|rate|value|p\((\d+(?:\.\d+)?)\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/

/** The aggregate an expression looks at, or undefined when the series has no such aggregate. */
export const aggregate = (series: Series, stat: string, seconds: number): number | undefined => {
  const h = series.histogram
  switch (series.kind) {
    case "trend": {
      const ms = (micros: number) => micros / 1000
      if (stat === "avg") return ms(h.mean)
      if (stat === "min") return ms(h.min)
      if (stat === "max") return ms(h.max)
      if (stat === "med") return ms(h.percentile(50))
      const p = /^p\((.+)\)$/.exec(stat)
      return p ? ms(h.percentile(Number(p[1]))) : undefined
    }
    case "rate":
      return stat === "rate" ? (series.total === 0 ? 0 : series.passes / series.total) : undefined
    case "counter":
      if (stat === "count") return series.value
      return stat === "rate" ? (seconds > 0 ? series.value / seconds : 0) : undefined
    case "gauge":
      return stat === "value" ? series.value : undefined
  }
}

/** Checks that every expression parses and names a known metric; throws otherwise. */
export const validate = (thresholds: Readonly<Record<string, ReadonlyArray<string>>>): void => {
  for (const [key, expressions] of Object.entries(thresholds)) {
    parseSeriesKey(key)
    for (const e of expressions) if (!EXPRESSION.test(e)) throw new Error(`threshold on ${key}: cannot read "${e}"`)
  }
}

export const evaluate = (
  metrics: Metrics,
  thresholds: Readonly<Record<string, ReadonlyArray<string>>>
): ReadonlyArray<Verdict> =>
  Object.entries(thresholds).flatMap(([key, expressions]) => {
    const series = metrics.ensure(parseSeriesKey(key))
    return expressions.map((expression): Verdict => {
      const match = EXPRESSION.exec(expression)!
      const stat = match[2] !== undefined ? `p(${match[2]})` : match[1]!
      // Stricter than k6: a latency or rate threshold on a series nobody fed fails, because a
      // scenario that never reached a route proves nothing about it.
      const empty =
        (series.kind === "trend" && series.histogram.count === 0) || (series.kind === "rate" && series.total === 0)
      const actual = empty ? undefined : aggregate(series, stat, metrics.seconds)
      const ok = actual !== undefined && comparisons[match[3]!]!(actual, Number(match[4]))
      return { series: formatSeriesKey(series.key), expression, actual, ok }
    })
  })
