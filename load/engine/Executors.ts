// k6's executors, for the Node runner: how many virtual users run the flow, or how often an
// iteration starts, over time.
// - constant-vus / ramping-vus (closed model): N VUs each run iterations back to back; when the
//   target drops, the VUs above it stop after their current iteration.
// - constant-arrival-rate / ramping-arrival-rate (open model): iterations start at the given
//   rate whatever the response times; each takes an idle VU, a new one while fewer than maxVUs
//   exist, and is dropped (dropped_iterations) when none can be had, as in k6.
// When the time is up no new iteration starts; running ones get `gracefulStopSeconds` to finish.
import type { Client, VuState } from "../flows/Api.ts"
import type { Flow } from "../flows/Flows.ts"
import { type Executor, seconds, type Stage, type Users } from "../flows/Params.ts"
import type { Metrics } from "./Metrics.ts"

export interface RunOptions {
  readonly executor: Executor
  readonly flow: Flow
  readonly client: Client
  readonly metrics: Metrics
  readonly users: Users
  readonly options: Readonly<Record<string, unknown>>
  readonly gracefulStopSeconds?: number
  /** Aborted when the run ends, so that sleeping iterations wake up. */
  readonly abort: AbortController
  /** Ends the run early (Ctrl-C). */
  readonly stop?: AbortSignal
  readonly onTick?: (elapsedSeconds: number, activeVus: number) => void
}

interface Vu {
  readonly id: number
  readonly state: VuState
  busy: boolean
  retiring: boolean
}

/** Piecewise-linear target over time, from `start` through each stage. */
const ramp = (start: number, stages: ReadonlyArray<Stage>) => {
  const points: Array<{ t: number; v: number }> = [{ t: 0, v: start }]
  for (const s of stages) points.push({ t: points.at(-1)!.t + seconds(s.duration), v: s.target })
  const at = (t: number): number => {
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1]!
      const b = points[i]!
      if (t <= b.t) return b.t === a.t ? b.v : a.v + ((b.v - a.v) * (t - a.t)) / (b.t - a.t)
    }
    return points.at(-1)!.v
  }
  /** ∫ target dt from 0 to t (trapezoids, exact for linear pieces). */
  const integral = (t: number): number => {
    let sum = 0
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1]!
      const b = points[i]!
      if (t <= a.t) break
      const end = Math.min(t, b.t)
      sum += ((a.v + at(end)) / 2) * (end - a.t)
    }
    return sum
  }
  return { at, integral, duration: points.at(-1)!.t }
}

const tick = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener("abort", done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener("abort", done, { once: true })
  })

export const run = async (o: RunOptions): Promise<void> => {
  const vus: Array<Vu> = []
  const running = new Set<Promise<void>>()
  let iterations = 0
  const started = performance.now()
  const elapsed = () => (performance.now() - started) / 1000
  const stop = o.stop ?? new AbortController().signal

  const allocate = (): Vu => {
    const vu: Vu = { id: vus.length + 1, state: {}, busy: false, retiring: false }
    vus.push(vu)
    return vu
  }
  const iterate = async (vu: Vu): Promise<void> => {
    vu.busy = true
    const begun = performance.now()
    try {
      await o.flow({
        client: o.client,
        vu: vu.id,
        iteration: iterations++,
        state: vu.state,
        users: o.users,
        options: o.options
      })
    } catch (error) {
      // k6 logs an exception and moves on with the next iteration; so do we.
      console.error(`load: iteration failed on VU ${vu.id}: ${error instanceof Error ? error.message : String(error)}`)
    } finally {
      vu.busy = false
      if (!o.abort.signal.aborted) o.metrics.iteration((performance.now() - begun) * 1000)
    }
  }
  const track = (promise: Promise<void>) => {
    running.add(promise)
    void promise.finally(() => running.delete(promise))
  }
  const active = () => vus.filter((v) => v.busy).length

  const e = o.executor
  if (e.type === "constant-vus" || e.type === "ramping-vus") {
    const target =
      e.type === "constant-vus"
        ? ramp(e.vus, [{ duration: e.duration, target: e.vus }])
        : ramp(e.startVUs ?? 0, e.stages)
    const loop = async (vu: Vu) => {
      while (!vu.retiring && elapsed() < target.duration && !stop.aborted) await iterate(vu)
    }
    while (elapsed() < target.duration && !stop.aborted) {
      const want = Math.round(target.at(elapsed()))
      const live = vus.filter((v) => !v.retiring)
      for (let i = live.length; i < want; i++) {
        const retired = vus.find((v) => v.retiring && !v.busy)
        const vu = retired ?? allocate()
        vu.retiring = false
        track(loop(vu))
      }
      for (const vu of live.slice(want)) vu.retiring = true
      o.metrics.vus(vus.filter((v) => !v.retiring).length, vus.length)
      o.onTick?.(elapsed(), active())
      await tick(100, stop)
    }
  } else {
    const timeUnit = seconds(e.timeUnit ?? "1s")
    const rate =
      e.type === "constant-arrival-rate"
        ? ramp(e.rate, [{ duration: e.duration, target: e.rate }])
        : ramp(e.startRate ?? 0, e.stages)
    const maxVUs = Math.max(e.preAllocatedVUs, e.maxVUs ?? e.preAllocatedVUs)
    // Idle VUs queue up, and the one idle longest takes the next iteration, as in k6: the load
    // spreads over every VU (so over many customers), not just the first.
    const idle: Array<Vu> = []
    for (let i = 0; i < e.preAllocatedVUs; i++) idle.push(allocate())
    const start = (vu: Vu) => track(iterate(vu).then(() => void idle.push(vu)))
    let startedIterations = 0
    let lastTick = 0
    while (elapsed() < rate.duration && !stop.aborted) {
      const due = Math.floor(rate.integral(elapsed()) / timeUnit)
      for (; startedIterations < due; startedIterations++) {
        const vu = idle.shift() ?? (vus.length < maxVUs ? allocate() : undefined)
        if (vu) start(vu)
        else o.metrics.dropped()
      }
      o.metrics.vus(active(), vus.length)
      if (elapsed() - lastTick >= 0.1) {
        lastTick = elapsed()
        o.onTick?.(elapsed(), active())
      }
      await tick(2, stop)
    }
  }

  // Time is up: let running iterations finish, within the grace period.
  const grace = tick((o.gracefulStopSeconds ?? 30) * 1000, stop)
  await Promise.race([Promise.all(running), grace])
  o.abort.abort()
}
