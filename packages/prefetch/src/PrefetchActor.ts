// The prefetch actors, all in the `prefetch` consumer group:
// - on `identity.audit`: each LoginSucceeded prefetches the customer's transactions
//   (Prefetcher.ts). A login read long after it happened (the actor was down) is skipped: the
//   session it was for is likely over, and reads fall back to PostgreSQL meanwhile anyway.
// - on `cdc.deposits`, `cdc.cards`, `cdc.lending`, `cdc.investments`: each new ledger entry is
//   appended to its account's prefetched window, if there is one; an entry changed or deleted
//   drops the window (TransactionCache.ts).
// - on `cdc.ref`: a change to a reference table invalidates the data sets built from it, which
//   are loaded again once the database transaction's changes are all in (ReferenceData.ts).
//   This one follows the reference data's generation pointer (`reference-data`, group
//   `prefetch` for generation 1, `prefetch.g<N>` after): ReferenceDataProjection.ts.
// The groups start at the end of their streams ("$"): history before the first start is
// nothing to prefetch, and every cache here can be rebuilt from PostgreSQL.
// The first two are the transaction windows' Projection value (`windows`, platform
// Projection.ts), which is not rebuildable: the windows are a cache, so `scripts/rebuild.ts`
// and `replay` refuse it and say why.
import { Cdc, Identity } from "@bank/contracts"
import { Actor, ReadModel } from "@bank/platform"
import type { Delivered, Projection } from "@bank/platform"
import { ledgers } from "@bank/records"
import { Effect, Layer, Schedule, type Scope } from "effect"
import * as AccountRef from "./AccountRef.ts"
import { PrefetchConfig } from "./PrefetchConfig.ts"
import * as Prefetcher from "./Prefetcher.ts"
import * as ReferenceData from "./ReferenceData.ts"
import * as TransactionCache from "./TransactionCache.ts"
import * as Transactions from "./Transactions.ts"

export const GROUP = "prefetch"

export const onLogin = Effect.fn("PrefetchActor.onLogin")(function* (message: Delivered<Identity.AuditEvent>) {
  const event = message.payload
  if (event._tag !== "LoginSucceeded" || event.customerId === undefined) return
  const config = yield* PrefetchConfig
  if (Date.now() - Date.parse(message.occurredAt) > config.loginMaxAgeMs) return
  const customerId = event.customerId
  // A prefetch is an optimisation: after a couple of tries it gives up rather than dead-letter.
  yield* Prefetcher.prefetch(customerId).pipe(
    Effect.retry({ schedule: Schedule.exponential("100 millis"), times: 2 }),
    Effect.tap((ready) => Effect.logDebug("prefetched", { customerId, accounts: ready })),
    Effect.catch((error) => Effect.logWarning("prefetch failed", { customerId, error: String(error) }))
  )
})

export const onLedgerChange = Effect.fn("PrefetchActor.onLedgerChange")(function* (message: Delivered<Cdc.CdcMessage>) {
  const change = message.payload
  if (change._tag !== "RowChanged" || change.table !== "transactions") return
  const ledger = AccountRef.ledgerOf(change.schema)
  if (!ledger) return
  if (change.op === "truncate") {
    // No keys to route by: the windows of that ledger stay until they expire or a gap drops them.
    return yield* Effect.logWarning("ledger truncated: prefetched windows are not dropped", {
      table: `${change.schema}.${change.table}`
    })
  }
  const row = change.new ?? change.old ?? change.key
  const customerId = row.customer_id ?? change.old?.customer_id
  const accountId = row[ledger.id] ?? change.old?.[ledger.id]
  if (!customerId || !accountId) return
  const account = AccountRef.format({ ledger, id: accountId })
  const entry = change.op === "insert" || change.op === "snapshot" ? Transactions.compact(change.new ?? {}) : undefined
  yield* TransactionCache.apply(customerId, account, entry ? { entry } : "invalidate")
})

/**
 * The handler of `cdc.ref` for `generation` (default 1). It remembers the data sets the current
 * database transaction changed, to load them again at its end; one per actor, whose messages
 * come in order.
 */
export const makeOnReferenceChange = (generation = 1) => {
  const changed = new Set<ReferenceData.DataSet>()
  return Effect.fn("PrefetchActor.onReferenceChange")(function* (message: Delivered<Cdc.CdcMessage>) {
    const change = message.payload
    const all = Object.keys(ReferenceData.dataSets) as Array<ReferenceData.DataSet>
    const sets =
      change._tag === "RowChanged"
        ? change.schema === "ref"
          ? ReferenceData.dataSetsOf(change.table)
          : []
        : change._tag === "TransactionCommitted"
          ? []
          : all // a new snapshot: whatever we had may be older than it
    for (const set of sets) {
      yield* ReferenceData.invalidate(set, generation)
      changed.add(set)
    }
    if (change._tag !== "RowChanged") {
      for (const set of changed) yield* ReferenceData.warm(set, generation)
      changed.clear()
    }
  })
}

/** The reference data's actor of `generation` in the current scope. */
export const runReference = (generation: number) =>
  Actor.run({
    group: ReadModel.groupOf(GROUP, generation),
    stream: Cdc.stream("ref"),
    startFrom: "$",
    // One queue for the whole stream: a transaction's end must come after its changes.
    orderingKey: () => "ref",
    handle: makeOnReferenceChange(generation)
  })

/** The reference data's actor of the generation readers use, following the pointer as a rebuild moves it (needs ReadModel). */
export const referenceLayer = Layer.effectDiscard(ReadModel.follow(ReferenceData.readModel, runReference))

/** The windows' actors in the current scope: logins, and every partition of every ledger's stream (CDC_PARTITIONS). */
const runWindows = Effect.gen(function* () {
  yield* Actor.run({ group: GROUP, stream: Identity.audit, startFrom: "$", handle: onLogin })
  const partitions = yield* Cdc.partitionsConfig
  yield* Effect.forEach(
    ledgers.flatMap((l) => Cdc.streams(l.system, partitions)),
    (stream) => Actor.run({ group: GROUP, stream, startFrom: "$", handle: onLedgerChange }),
    { discard: true }
  )
})

export type WindowServices = Exclude<Effect.Services<typeof runWindows>, Scope.Scope>

/** The prefetched transaction windows as a Projection value: filled at login, kept by the ledgers' CDC. */
export const windows: Projection.NotRebuildable<never, WindowServices> = {
  rebuild: "none",
  why: "the windows are a cache, made at login with a time limit and answered from PostgreSQL on a miss: deleting them is always correct",
  name: "transaction-windows",
  sources: [Identity.audit.name, ...ledgers.map((l) => Cdc.stream(l.system).name)],
  group: () => GROUP,
  guard: "entry-number",
  documents:
    "per account a hash {c:<customer>}:txmeta:<system>:<id> and a sorted set {c:<customer>}:txns:<system>:<id> (TransactionCache.ts)",
  run: () => runWindows
}

/** Every prefetch actor, running while the layer lives; needs Redis, Database, ReadModel and PrefetchConfig. */
export const layer = Layer.mergeAll(Layer.effectDiscard(windows.run()), referenceLayer)
