// The core-banking activity simulator: keeps writing realistic activity (card purchases,
// transfers, loan instalments, trades) into the systems of record at a chosen rate, as the
// bank's back ends would, for demos, load tests and freshness measurements.
//
// Rate control is open-loop: slot k is due at start + k/rate, whoever is free takes the next
// slot, so a slow database does not quietly lower the offered load. When the workers fall more
// than a second behind, the overdue slots are dropped and counted as `missed` rather than
// fired in a burst; the summary reports the achieved rate next to the target, honestly.
import { Database } from "@bank/platform"
import { Deferred, Effect, Schema } from "effect"
import { hashSeed, random } from "./Prng.ts"
import { activities, type Env, type System } from "./simulator/Activities.ts"

export interface SimulatorOptions {
  /** Target activities per second. */
  readonly rate: number
  /** Stop after this many milliseconds (default: run until `stop`). */
  readonly durationMs?: number
  /** Completes when the run should end gracefully (Ctrl-C): work in progress finishes first. */
  readonly stop?: Deferred.Deferred<void>
  /** Concurrent workers, each with a connection while it books (default: from the rate). */
  readonly workers?: number
  /** Seeds the choice of accounts and amounts (default: random). */
  readonly seed?: string
  /** Called every `reportEveryMs` (default 5 s) with the figures so far. */
  readonly onReport?: (summary: SimulatorSummary) => void
  readonly reportEveryMs?: number
}

export interface SimulatorSummary {
  readonly targetRate: number
  readonly seconds: number
  /** Entries booked (one activity may book two, like interest and instalment: counted once). */
  readonly booked: number
  /** Refused by the account (not enough funds or credit): nothing written. */
  readonly declined: number
  /** Errors from the database: nothing written. */
  readonly failed: number
  /** Slots dropped because the workers were more than a second behind. */
  readonly missed: number
  /** booked + declined per second: the activity the database really absorbed. */
  readonly achievedRate: number
  readonly bySystem: Readonly<Record<System, number>>
  /** Time of one activity's database transaction, milliseconds. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number }
}

export class SimulatorError extends Schema.TaggedError<SimulatorError>()("SimulatorError", { detail: Schema.String }) {
  override get message(): string {
    return this.detail
  }
}

// The mix of a retail bank's day: mostly card and current-account activity.
const MIX: ReadonlyArray<readonly [System, number]> = [
  ["deposits", 60],
  ["cards", 28],
  ["investments", 9],
  ["lending", 3]
]

const SAMPLES = 50_000

/** Enough workers that one slow transaction does not hold the rest back. */
export const defaultWorkers = (rate: number): number => Math.min(32, Math.max(2, Math.ceil(rate / 50)))

export const run = Effect.fn("Simulator.run")(function* (options: SimulatorOptions) {
  if (!(options.rate > 0)) return yield* new SimulatorError({ detail: "the rate must be a positive number" })
  const db = yield* Database.Database
  const currencies = yield* db.query<{ code: string; minor_unit: number }>(
    "SELECT code, minor_unit FROM ref.currencies"
  )
  const ranges = new Map<System, { min: number; max: number }>()
  for (const [system, table, id] of [
    ["deposits", "deposits.accounts", "account_id"],
    ["cards", "cards.cards", "card_id"],
    ["lending", "lending.loans", "loan_id"],
    ["investments", "investments.accounts", "account_id"]
  ] as const) {
    const [r] = yield* db.query<{ min: string | null; max: string | null }>(
      `SELECT min(${id}), max(${id}) FROM ${table}`
    )
    if (r?.min != null && r.max != null) ranges.set(system, { min: Number(r.min), max: Number(r.max) })
  }
  const mix = MIX.filter(([system]) => ranges.has(system))
  if (mix.length === 0)
    return yield* new SimulatorError({ detail: "no accounts to simulate on: seed the systems of record first" })

  const env: Env = {
    rng: random(hashSeed(options.seed ?? String(Math.random()), "simulator")),
    units: new Map(currencies.map((c) => [c.code, c.minor_unit]))
  }
  const interval = 1000 / options.rate
  const workers = options.workers ?? defaultWorkers(options.rate)
  const stop = options.stop ?? (yield* Deferred.make<void>())
  const started = performance.now()
  const deadline = options.durationMs === undefined ? Infinity : started + options.durationMs
  const counts = { booked: 0, declined: 0, failed: 0, missed: 0 }
  const bySystem: Record<System, number> = { deposits: 0, cards: 0, lending: 0, investments: 0 }
  const latencies: Array<number> = []
  let seen = 0
  let next = 0

  const summary = (): SimulatorSummary => {
    const seconds = (performance.now() - started) / 1000
    const sorted = [...latencies].sort((a, b) => a - b)
    const at = (q: number) =>
      sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
    return {
      targetRate: options.rate,
      seconds,
      ...counts,
      bySystem: { ...bySystem },
      achievedRate: seconds > 0 ? (counts.booked + counts.declined) / seconds : 0,
      latencyMs: { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 }
    }
  }
  const record = (ms: number) => {
    // Reservoir sampling: a fair sample of every latency, in bounded memory.
    seen += 1
    if (latencies.length < SAMPLES) latencies.push(ms)
    else {
      const slot = Math.floor(Math.random() * seen)
      if (slot < SAMPLES) latencies[slot] = ms
    }
  }
  const takeSlot = (): number => {
    const behind = Math.floor((performance.now() - started) / interval)
    if (behind - next > Math.max(1, options.rate)) {
      counts.missed += behind - next
      next = behind
    }
    return started + next++ * interval
  }
  let warned = false
  const one = Effect.gen(function* () {
    const system = env.rng.weighted(mix)
    const { min, max } = ranges.get(system)!
    const begun = performance.now()
    const outcome = yield* activities[system](env, env.rng.int(min, max)).pipe(
      Effect.catchTag("DatabaseError", (error) =>
        Effect.gen(function* () {
          if (!warned)
            yield* Effect.logWarning(`simulate: ${system} activity failed (later failures are only counted)`, error)
          warned = true
          return "failed" as const
        })
      )
    )
    if (outcome === "missing") return false // a gap in the ids, or a closed account: draw again
    if (outcome !== "failed") record(performance.now() - begun)
    counts[outcome] += 1
    if (outcome === "booked") bySystem[system] += 1
    return true
  })
  const worker = Effect.gen(function* () {
    while (!Deferred.isDoneUnsafe(stop)) {
      const due = takeSlot()
      if (due >= deadline) return
      const wait = due - performance.now()
      if (wait > 0) yield* Effect.raceFirst(Effect.sleep(wait), Deferred.await(stop))
      if (Deferred.isDoneUnsafe(stop)) return
      for (let attempt = 0; attempt < 5 && !(yield* one); attempt++) {}
    }
  })
  const reporter = options.onReport
    ? Effect.forever(
        Effect.sleep(options.reportEveryMs ?? 5000).pipe(
          Effect.andThen(Effect.sync(() => options.onReport!(summary())))
        )
      )
    : Effect.never
  yield* Effect.raceFirst(
    Effect.forEach(Array.from({ length: workers }), () => worker, { concurrency: "unbounded", discard: true }),
    reporter
  )
  return summary()
})
