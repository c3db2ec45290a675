// One figure of the benchmark report: a measured value, or the reason it could not be measured,
// with the baseline it is compared to (the ratio is what stays meaningful on a noisier machine)
// and the target from the issue when there is one.
import type { CpuUse } from "./Machine.ts"
import type { ProcessCpu } from "./Processes.ts"

export type Group =
  | "Edge ceiling"
  | "Token check"
  | "Edge against the lean reference"
  | "Dashboard"
  | "Login"
  | "Projectors and CDC"
  | "Memory"

export interface Target {
  readonly text: string
  readonly met: boolean
}

export interface Figure {
  readonly group: Group
  readonly label: string
  readonly value?: number
  readonly unit: string
  /** More numbers of the same run: latency, counts, settings. */
  readonly detail?: string
  readonly baseline?: { readonly label: string; readonly value: number }
  readonly target?: Target
  readonly cpu?: CpuUse | undefined
  /** CPU cores each of our processes used meanwhile, busiest first. */
  readonly processes?: ReadonlyArray<ProcessCpu>
  /** Set when there is no value: why. */
  readonly notMeasured?: string
  /** For the chart: which panel, if any. */
  readonly chart?: "http" | "login" | "stream" | "latency"
}

export const ratioOf = (f: Figure): number | undefined =>
  f.value !== undefined && f.baseline && f.baseline.value > 0 ? f.value / f.baseline.value : undefined

export const notMeasured = (group: Group, label: string, unit: string, reason: string): Figure => ({
  group,
  label,
  unit,
  notMeasured: reason
})

const digits = (n: number) => (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : Math.abs(n) >= 1 ? 2 : 3)

/** A number for people: thousands separated, a sensible number of decimals. */
export const fmt = (n: number, decimals = digits(n)): string =>
  n.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals })

export const bytes = (n: number): string =>
  n >= 2 ** 40
    ? `${fmt(n / 2 ** 40)} TiB`
    : n >= 2 ** 30
      ? `${fmt(n / 2 ** 30)} GiB`
      : n >= 2 ** 20
        ? `${fmt(n / 2 ** 20)} MiB`
        : n >= 1024
          ? `${fmt(n / 1024)} KiB`
          : `${fmt(n, 0)} B`
