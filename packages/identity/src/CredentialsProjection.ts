// Projects the customer master (the partitions of `cdc.customer`) into the login data of Credentials.ts.
// - `customer.credentials` rows give username, password hash, status and lock end;
//   `customer.customers` rows give the roles. A deleted credentials row ends the login; a
//   deleted customer leaves only a tombstone (so an older redelivered insert cannot revive it).
// - Each change applies unless the customer's record already holds an equal or newer CDC
//   position (commitLsn, seq): redeliveries are dropped in the same Lua step that applies.
// - The username pointer is synced after every change, applied or not, so a crash between the
//   two steps is repaired by the redelivery.
// Snapshot entries are plain upserts; rows deleted while no snapshot was running are handled
// by their delete events. Truncates carry no keys and are logged.
import * as Cdc from "@bank/contracts/Cdc"
import * as Actor from "@bank/platform/Actor"
import type * as Envelope from "@bank/platform/Envelope"
import * as Keys from "@bank/platform/Keys"
import { Effect, Layer } from "effect"
import { Redis } from "effect/persistence/Redis"
import { parsePgArray, pgTimestampToMs, recordKey } from "./Credentials.ts"
import * as Scripts from "./Scripts.ts"
import type * as Readiness from "@bank/platform/Readiness"

export const group = "identity.credentials"

/** How long a deleted customer's tombstone keeps stale redeliveries out (a week). */
const TOMBSTONE_MS = 7 * 24 * 3600 * 1000

type Change = { readonly mode: "set"; readonly fields: ReadonlyArray<string> } | { readonly mode: "clear-login" } | { readonly mode: "forget" }

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

const customerIdOf = (row: Cdc.RowChanged): string | undefined => row.key.customer_id ?? row.old?.customer_id ?? row.new?.customer_id ?? undefined

/** The position as the three decimal numbers credentials.lua compares. */
export const positionArgs = (position: Cdc.Position): readonly [string, string, string] => {
  const lsn = Cdc.lsnToBigInt(position.commitLsn)
  return [String(lsn >> 32n), String(lsn & 0xffffffffn), String(position.seq)]
}

export const apply = Effect.fn("CredentialsProjection.apply")(function*(row: Cdc.RowChanged) {
  const change = changeOf(row)
  const customerId = customerIdOf(row)
  if (change === undefined || customerId === undefined) return
  const redis = yield* Redis
  const args = [
    ...positionArgs(row),
    change.mode,
    ...(change.mode === "set" ? change.fields : change.mode === "forget" ? [String(TOMBSTONE_MS)] : [])
  ]
  const [, before, after] = yield* redis.eval(Scripts.credentials)(recordKey(customerId), args)
  if (before !== "" && before !== after) yield* redis.eval(Scripts.deleteIfEquals)(Keys.loginName(before), customerId)
  if (after !== "") yield* redis.send("SET", Keys.loginName(after), customerId)
})

const handle = (message: Envelope.Delivered<Cdc.CdcMessage>) => {
  const payload = message.payload
  switch (payload._tag) {
    case "RowChanged":
      if (payload.op === "truncate" && payload.schema === "customer") {
        return Effect.logWarning("customer master table truncated: login data is kept until a rebuild", { table: payload.table })
      }
      return apply(payload)
    default:
      return Effect.void
  }
}

/** The projection as actors (consumer group `identity.credentials` on each partition of `cdc.customer`). */
export const run = Effect.gen(function*() {
  const partitions = yield* Cdc.partitionsConfig
  yield* Effect.forEach(Cdc.streams("customer", partitions), (stream) => Actor.run({ group, stream, handle, concurrency: 16 }), { discard: true })
})

export const layer = Layer.effectDiscard(run)

/** For readiness: the credentials are loaded once this group has applied the customer master's snapshot. */
export const readModel: Readiness.ReadModelSource = {
  name: "credentials",
  groups: Effect.map(Cdc.partitionCount, (partitions) => Cdc.streams("customer", partitions).map((stream) => ({ stream: stream.name, group }))),
  fedByCdc: true
}
