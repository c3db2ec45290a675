// Projects the customer master (`cdc.identity`, its login data as the connector copies it there) into the login data of Credentials.ts.
// - `customer.credentials` rows give username, password hash, status and lock end;
//   `customer.customers` rows give the roles. A deleted credentials row ends the login; a
//   deleted customer leaves only a tombstone (so an older redelivered insert cannot revive it).
// - Each change applies unless the customer's record already holds an equal or newer CDC
//   position (commitLsn, seq): redeliveries are dropped in the same Lua step that applies.
// - The username pointer is synced after every change, applied or not, so a crash between the
//   two steps is repaired by the redelivery.
// Snapshot entries are plain upserts; rows deleted while no snapshot was running are handled
// by their delete events. Truncates carry no keys and are logged.
//
// The read model is a Projection value (`projection`, platform Projection.ts) with generations
// (Credentials.ts): `scripts/rebuild.ts credentials` builds generation N+1 from a fresh snapshot
// of the customer master (cdc.identity is a copy of it) plus the stream's tail, then switches
// logins to it; the identity processes follow the pointer. Only the generation logins use has
// the side effects below (`effects`): a generation being built restates data, it ends nobody's
// session.
//
// The customer master drives access to live sessions too (OWASP ASVS 7.4.2): when an applied
// change disables, locks (until a future time or for good) or deletes the customer, removes the
// login, or changes the password hash, every session of the customer ends at once, audited with
// the reason (Revocation.ts); a change of roles is written into the live access tokens, so it
// applies from the next request on.
import { Cdc } from "@bank/contracts"
import { Actor, ReadModel, Retention, StreamLog } from "@bank/platform"
import * as IdentityKeys from "./IdentityKeys.ts"
import type { Envelope, Projection, Readiness } from "@bank/platform"
import { Effect, Layer } from "effect"
import { Redis } from "effect/persistence/Redis"
import type { Identity } from "@bank/contracts"
import {
  currentGeneration,
  parsePgArray,
  pgTimestampToMs,
  readModel as name,
  recordKey,
  recordPattern
} from "./Credentials.ts"
import * as CredentialsReconcile from "./CredentialsReconcile.ts"
import * as Revocation from "./Revocation.ts"
import * as Scripts from "./Scripts.ts"
import * as SessionStore from "./SessionStore.ts"

export const group = "identity.credentials"

/** The consumer group of `generation`: `identity.credentials` for 1, `identity.credentials.g<N>` after. */
export const groupOf = (generation: number): string => ReadModel.groupOf(group, generation)
/**
 * Identity's own CDC stream: the customer master's credentials whole (password hashes never go
 * to the general `cdc.customer`) and the customers' roles; see the connector's ColumnFilter.ts.
 */
export const stream = Cdc.stream("identity")

/** How long a deleted customer's tombstone keeps stale redeliveries out (a week). */
const TOMBSTONE_MS = 7 * 24 * 3600 * 1000

type Change =
  | { readonly mode: "set"; readonly fields: ReadonlyArray<string> }
  | { readonly mode: "clear-login" }
  | { readonly mode: "forget" }

/** What a row change means for the customer's login data, if anything. Pure. */
export const changeOf = (row: Cdc.RowChanged): Change | undefined => {
  if (row.schema !== "customer") return undefined
  const values = row.new ?? {}
  const has = (column: string) => Object.hasOwn(values, column) && !(row.unchanged ?? []).includes(column)
  if (row.table === "credentials") {
    if (row.op === "delete") return { mode: "clear-login" }
    if (row.op !== "insert" && row.op !== "update" && row.op !== "snapshot") return undefined
    const fields: Array<string> = []
    if (has("username")) fields.push("username", values.username ?? "")
    if (has("password_hash")) fields.push("passwordHash", values.password_hash ?? "")
    if (has("status")) fields.push("status", values.status ?? "active")
    if (has("locked_until")) {
      const until = values.locked_until ? pgTimestampToMs(values.locked_until) : Number.NaN
      fields.push("lockedUntil", Number.isNaN(until) ? "" : String(until))
    }
    return { mode: "set", fields }
  }
  if (row.table === "customers") {
    if (row.op === "delete") return { mode: "forget" }
    if (row.op !== "insert" && row.op !== "update" && row.op !== "snapshot") return undefined
    return has("roles") ? { mode: "set", fields: ["roles", parsePgArray(values.roles ?? "{}").join(",")] } : undefined
  }
  return undefined
}

const customerIdOf = (row: Cdc.RowChanged): string | undefined =>
  row.key.customer_id ?? row.old?.customer_id ?? row.new?.customer_id ?? undefined

/** The position as the three decimal numbers credentials.lua compares. */
export const positionArgs = (position: Cdc.Position): readonly [string, string, string] => {
  const lsn = Cdc.lsnToBigInt(position.commitLsn)
  return [String(lsn >> 32n), String(lsn & 0xffffffffn), String(position.seq)]
}

/** Why an applied change ends the customer's sessions, if it does. Pure. */
export const endReasonOf = (
  change: Change,
  passwordChanged: boolean,
  now: number
): Identity.SessionEndReason | undefined => {
  if (change.mode === "forget" || change.mode === "clear-login") return "AccountDeleted"
  if (passwordChanged) return "CredentialChanged"
  const fields = new Map<string, string>()
  for (let i = 0; i + 1 < change.fields.length; i += 2) fields.set(change.fields[i]!, change.fields[i + 1]!)
  const status = fields.get("status")
  if (status === "disabled") return "AccountDisabled"
  if (status === "locked") {
    const until = fields.get("lockedUntil")
    if (until === undefined || until === "" || Number(until) > now) return "AccountLocked"
  }
  return undefined
}

/** Writes the customer's roles into the access tokens of their live sessions. */
const applyRoles = Effect.fn("CredentialsProjection.applyRoles")(function* (customerId: string, roles: string) {
  const redis = yield* Redis
  const states = yield* redis.send<ReadonlyArray<string>>("HVALS", SessionStore.keys(customerId).state)
  yield* Effect.forEach(
    states,
    (text) => {
      const state = SessionStore.parseState(text)
      return state === undefined
        ? Effect.void
        : Effect.asVoid(redis.eval(Scripts.setTokenField)(IdentityKeys.accessToken(state.accessHash), "r", roles))
    },
    { discard: true }
  )
})

export interface ApplyOptions {
  /** The generation written (default 1). */
  readonly generation?: number
  /** Whether an applied change ends sessions and rewrites tokens (default true: the generation logins use). */
  readonly effects?: boolean
}

export const apply = Effect.fn("CredentialsProjection.apply")(function* (
  row: Cdc.RowChanged,
  causedBy?: Envelope.Delivered<Cdc.CdcMessage>,
  options: ApplyOptions = {}
) {
  const change = changeOf(row)
  const customerId = customerIdOf(row)
  if (change === undefined || customerId === undefined) return
  const generation = options.generation ?? 1
  const redis = yield* Redis
  const values = change.mode === "set" ? change.fields : change.mode === "forget" ? [String(TOMBSTONE_MS)] : []
  const [applied, before, after, passwordChanged, rolesBefore, rolesAfter] = yield* redis.eval(Scripts.credentials)(
    recordKey(customerId, generation),
    positionArgs(row),
    change.mode,
    values
  )
  if (before !== "" && before !== after)
    yield* redis.eval(Scripts.deleteIfEquals)(IdentityKeys.loginName(before, generation), customerId)
  if (after !== "") yield* redis.send("SET", IdentityKeys.loginName(after, generation), customerId)
  // Snapshot rows restate what is known; only live changes end sessions.
  if (applied !== 1 || row.op === "snapshot" || options.effects === false) return
  const reason = endReasonOf(change, passwordChanged === 1, Date.now())
  if (reason !== undefined) yield* Revocation.endAll(customerId, reason, {}, causedBy)
  else if (rolesAfter !== rolesBefore && rolesAfter !== "") yield* applyRoles(customerId, rolesAfter)
})

const handle = (generation: number, effects: () => boolean) => (message: Envelope.Delivered<Cdc.CdcMessage>) => {
  const payload = message.payload
  switch (payload._tag) {
    case "RowChanged":
      if (payload.op === "truncate" && payload.schema === "customer") {
        return Effect.logWarning("customer master table truncated: login data is kept until a rebuild", {
          table: payload.table
        })
      }
      return apply(payload, message, { generation, effects: effects() })
    default:
      return Effect.void
  }
}

/**
 * The projection of `generation` (default 1) as an actor in the current scope (consumer group
 * `identity.credentials[.g<N>]` on `cdc.identity`); `effects` says whether it is the generation
 * logins use (default: always).
 */
export const runGeneration = (options: { readonly generation?: number; readonly effects?: () => boolean } = {}) =>
  Actor.run({
    group: groupOf(options.generation ?? 1),
    stream,
    handle: handle(options.generation ?? 1, options.effects ?? (() => true)),
    concurrency: 16
  })

/** Generation 1 in the current scope (tests and stacks without rebuilds). */
export const run = runGeneration()

export const layer = Layer.effectDiscard(run).pipe(Layer.provide(StreamLog.layer))

/** The projection of the generation logins use, following the pointer as a rebuild moves it (needs ReadModel). */
export const layerFollowing = Layer.effectDiscard(
  ReadModel.follow(name, (generation) => runGeneration({ generation }))
).pipe(Layer.provide(StreamLog.layer))

/** For readiness: the credentials are loaded once this group has applied the customer master's snapshot. */
export const readModel: Readiness.ReadModelSource = {
  name: "credentials",
  groups: Effect.map(currentGeneration, (generation) => [{ stream: stream.name, group: groupOf(generation) }]),
  fedByCdc: true
}

const applyAll = (rows: ReadonlyArray<Cdc.RowChanged>, options: ApplyOptions) =>
  Effect.forEach(rows, (row) => apply(row, undefined, options), { concurrency: 32, discard: true })

/**
 * The credentials as a Projection value: one stream (`cdc.identity`), rebuilt from a fresh
 * snapshot of the customer master, guarded per customer by the row position (credentials.lua).
 * Its records are hashes and pointers, not documents: `patterns` names them for deletion.
 */
export const projection: Projection.Rebuildable<Cdc.RowChanged, Cdc.CdcMessage, Redis | StreamLog.StreamLog> = {
  rebuild: "from-snapshot",
  name,
  sources: ["identity"],
  snapshotSources: ["customer"],
  group: groupOf,
  documentKey: recordKey,
  guard: "row-position",
  keys: (generation) => [Retention.lostKey(stream.name, groupOf(generation))],
  patterns: (generation) => [recordPattern(generation), IdentityKeys.loginNamePattern(generation)],
  applySnapshot: (generation, _system, rows) => applyAll(rows, { generation, effects: false }),
  // Changes committed before a rebuild's snapshot are older than its rows: the row guard drops them.
  run: (generation, { announce }) => runGeneration({ generation, effects: announce ?? (() => true) }),
  replayer: (generation) => ({
    feed: (entries) =>
      Effect.gen(function* () {
        const rows = entries.flatMap((e) => (e.payload._tag === "RowChanged" ? [e.payload] : []))
        const redis = yield* Redis
        const positions = (ids: ReadonlyArray<string>) =>
          Effect.forEach(ids, (id) => redis.send<string | null>("HGET", recordKey(id, generation), "pos"))
        const customers = [...new Set(rows.map(customerIdOf).filter((c): c is string => c !== undefined))]
        const before = yield* positions(customers)
        // A replay repairs data; it ends no session (that happened when the change was live).
        yield* Effect.forEach(rows, (row) => apply(row, undefined, { generation, effects: false }), { discard: true })
        const after = yield* positions(customers)
        return { units: rows.length, changed: customers.filter((_, i) => before[i] !== after[i]).length, warnings: [] }
      }),
    unfinished: () => 0
  }),
  reconcile: CredentialsReconcile.reconcile
}
