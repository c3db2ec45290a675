// The dead-letter streams (`stream:{s:<stream>}:dead`, filled by ConsumerGroup.deadLetter):
// list, show, redrive and purge, for scripts/dlq.ts and the admin API.
// - A dead letter holds the original entry's fields unchanged (the envelope: message id,
//   causation, traceparent, payload) followed by `dead.*` fields saying why.
// - Redrive appends the original fields to the stream again (so the same message id and trace
//   context; Redis gives it a new entry id) and waits for the dead letter's group: once the group
//   has acknowledged the new entry, the dead letter is deleted. If the group dead-letters it
//   again, the older dead letter is deleted too (the new one says why); if neither happens in
//   time, the dead letter stays. Every group of the stream sees the entry again: the handlers are
//   idempotent (at-least-once delivery), so the others skip it.
// - Purge deletes dead letters for good.
import { Effect, Schedule } from "effect"
import { Redis, type RedisError } from "effect/persistence/Redis"
import * as Keys from "./Keys.ts"
import { scanKeys } from "./RedisTopology.ts"
import type { RawEntry } from "./StreamLog.ts"

export interface DeadLetter {
  /** The dead letter's own entry id in the dead-letter stream. */
  readonly id: string
  readonly stream: string
  /** The entry id it had on the stream, the group that gave up and why. */
  readonly entryId: string
  readonly group: string
  readonly consumer: string
  readonly error: string
  readonly deliveries: number
  readonly at: string
  /** The original entry's fields, as [name, value] pairs. */
  readonly fields: ReadonlyArray<readonly [string, string]>
}

export interface Selection {
  readonly stream: string
  /** Only dead letters of this group. */
  readonly group?: string
  /** Dead-letter ids, inclusive ("-" / "+" for the ends; default everything). */
  readonly from?: string
  readonly to?: string
  /** Exactly these dead-letter ids (instead of a range). */
  readonly ids?: ReadonlyArray<string>
  /** At most this many (default 100). */
  readonly count?: number
}

export type RedriveOutcome =
  | { readonly id: string; readonly outcome: "redriven"; readonly newEntryId: string }
  | { readonly id: string; readonly outcome: "failed-again"; readonly newEntryId: string; readonly error: string }
  | { readonly id: string; readonly outcome: "timed-out"; readonly newEntryId: string }

const ENTRY_ID = /^(\d+)(?:-(\d+))?$/
/** An entry id or "-" / "+" (for ranges). */
export const isEntryId = (text: string): boolean => text === "-" || text === "+" || ENTRY_ID.test(text)

const compareIds = (a: string, b: string): number => {
  const [, am = "0", as = "0"] = ENTRY_ID.exec(a) ?? []
  const [, bm = "0", bs = "0"] = ENTRY_ID.exec(b) ?? []
  const ms = BigInt(am) - BigInt(bm)
  return ms !== 0n ? (ms > 0n ? 1 : -1) : Number(BigInt(as) - BigInt(bs))
}

const parse = (stream: string, [id, raw]: RawEntry): DeadLetter => {
  const flat = raw ?? []
  const fields: Array<readonly [string, string]> = []
  const dead: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = String(flat[i])
    const value = String(flat[i + 1])
    if (name.startsWith("dead.")) dead[name.slice(5)] = value
    else fields.push([name, value])
  }
  return {
    id,
    stream,
    entryId: dead.entry ?? "",
    group: dead.group ?? "",
    consumer: dead.consumer ?? "",
    error: dead.error ?? "",
    deliveries: Number(dead.deliveries ?? 0),
    at: dead.at ?? "",
    fields
  }
}

/** The streams that have a dead-letter stream with anything in it, with their depth. */
export const streams = Effect.fn("DeadLetters.streams")(function* () {
  const redis = yield* Redis
  const found = new Map<string, number>()
  // Every master's keys (on a cluster each holds some of the streams).
  yield* scanKeys(
    "stream:{s:*}:dead",
    (keys) =>
      Effect.forEach(
        keys,
        (key) => {
          const name = /^stream:\{s:(.+)\}:dead$/.exec(key)?.[1]
          return name === undefined
            ? Effect.void
            : Effect.map(redis.send<number>("XLEN", key), (depth) => void found.set(name, Number(depth)))
        },
        { discard: true }
      ),
    { type: "stream" }
  )
  return [...found]
    .filter(([, depth]) => depth > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([stream, depth]) => ({ stream, depth }))
})

/** The dead letters a selection names, oldest first. */
export const list = Effect.fn("DeadLetters.list")(function* (selection: Selection) {
  const redis = yield* Redis
  const key = Keys.deadLetter(selection.stream)
  const count = selection.count ?? 100
  const matches = (d: DeadLetter) => selection.group === undefined || d.group === selection.group
  const found: Array<DeadLetter> = []
  if (selection.ids !== undefined) {
    for (const id of selection.ids)
      found.push(
        ...(yield* redis.send<Array<RawEntry>>("XRANGE", key, id, id))
          .map((e) => parse(selection.stream, e))
          .filter(matches)
      )
    return found.slice(0, count)
  }
  // The group filter applies after reading, so read pages until `count` match.
  const pageSize = Math.max(count, 100)
  let from = selection.from ?? "-"
  const to = selection.to ?? "+"
  while (found.length < count) {
    const page = yield* redis.send<Array<RawEntry>>("XRANGE", key, from, to, "COUNT", String(pageSize))
    found.push(...page.map((e) => parse(selection.stream, e)).filter(matches))
    if (page.length < pageSize) break
    from = `(${page.at(-1)![0]}`
  }
  return found.slice(0, count)
})

/** Whether `group` has acknowledged entry `id` of `stream`: delivered to it and no longer pending. */
const acknowledged = (stream: string, group: string, id: string) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const key = Keys.stream(stream)
    const groups = yield* redis.send<Array<Array<unknown>>>("XINFO", "GROUPS", key)
    const info = groups
      .map((g) => Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [String(g[2 * i]), g[2 * i + 1]])))
      .find((g) => g.name === group)
    if (info === undefined || compareIds(String(info["last-delivered-id"]), id) < 0) return false
    const pending = yield* redis.send<Array<unknown>>("XPENDING", key, group, id, id, "1")
    return pending.length === 0
  })

/** The dead letter a redriven entry produced, if its group gave up on it again. */
const deadAgain = (stream: string, newEntryId: string, since: string) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const recent = yield* redis.send<Array<RawEntry>>("XRANGE", Keys.deadLetter(stream), `(${since}`, "+")
    return recent.map((e) => parse(stream, e)).find((d) => d.entryId === newEntryId)
  })

/**
 * Redrives each selected dead letter (see the top of this file); waits up to `timeoutMs` per
 * dead letter for its group to finish with it.
 */
export const redrive = Effect.fn("DeadLetters.redrive")(function* (
  selection: Selection,
  options: { readonly timeoutMs?: number } = {}
) {
  const redis = yield* Redis
  const letters = yield* list(selection)
  const outcomes: Array<RedriveOutcome> = []
  for (const letter of letters) {
    const lastDead =
      (yield* redis.send<Array<RawEntry>>(
        "XREVRANGE",
        Keys.deadLetter(letter.stream),
        "+",
        "-",
        "COUNT",
        "1"
      ))[0]?.[0] ?? letter.id
    const newEntryId = yield* redis.send<string>("XADD", Keys.stream(letter.stream), "*", ...letter.fields.flat())
    const settle: Effect.Effect<RedriveOutcome | undefined, RedisError, Redis> = Effect.gen(function* () {
      // Acknowledged first, dead letter second: the dead-letter script acknowledges and
      // dead-letters in one step, so an acknowledgement seen here means any dead letter of the
      // entry already exists. (The other order read "not dead yet", then "acknowledged" by the
      // dead-letter step itself, and called a failed redrive a success.)
      const acked = letter.group !== "" && (yield* acknowledged(letter.stream, letter.group, newEntryId))
      const again = yield* deadAgain(letter.stream, newEntryId, lastDead)
      if (again !== undefined)
        return { id: letter.id, outcome: "failed-again", newEntryId, error: again.error } as const
      if (acked) return { id: letter.id, outcome: "redriven", newEntryId } as const
      return undefined
    })
    const outcome = yield* settle.pipe(
      Effect.repeat({ until: (o) => o !== undefined, schedule: Schedule.spaced("100 millis") }),
      Effect.timeoutOption(options.timeoutMs ?? 30_000),
      Effect.map((o) =>
        o._tag === "Some" && o.value !== undefined
          ? o.value
          : ({ id: letter.id, outcome: "timed-out", newEntryId } as const)
      )
    )
    if (outcome.outcome !== "timed-out") yield* redis.send("XDEL", Keys.deadLetter(letter.stream), letter.id)
    outcomes.push(outcome)
  }
  return outcomes
})

/** Deletes the selected dead letters; returns their ids. */
export const purge = Effect.fn("DeadLetters.purge")(function* (selection: Selection) {
  const redis = yield* Redis
  const letters = yield* list(selection)
  if (letters.length > 0) yield* redis.send("XDEL", Keys.deadLetter(selection.stream), ...letters.map((d) => d.id))
  return letters.map((d) => d.id)
})
