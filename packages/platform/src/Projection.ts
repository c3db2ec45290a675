// A projection as a value: what one read model is built from and how, declared once, so that the
// runner, rebuild, replay, reconcile and the given/when/then test helper take the same thing
// (Emmett's projections are the model). The capability that owns the read model declares it
// (e.g. @bank/dashboard's DashboardProjection); the CDC package's Rebuild and Replay and the
// scripts take it. Generic over the change and message types, since the platform knows no
// contract: a CDC projection is a `Projection<Cdc.RowChanged, Cdc.CdcMessage, R>`.
//
// Idempotency guards, and which fits where (one per projection):
//   positions + revision   the document keeps each source stream's position; a unit at or
//                          before it is a redelivery and is dropped, and every write is a
//                          compare-and-set on the document's revision. For documents written
//                          from several streams whose changes must apply whole (the dashboard).
//   per-row position       each source row owns some paths and keeps its own position; a change
//                          applies only when newer (the profile, the credentials): rows are
//                          independent facts, so shared-mode consumers in any order are fine.
//   once marker            an effectively-once marker per message (Idempotency.ts), for side
//                          effects that are not a document (payments, profile writes), and for
//                          documents fed by one event stream whose changes carry no position of
//                          their own (the session projector: the last applied event per customer).
//   invalidate+reload      a read model computed by a query over several tables rather than
//                          row by row (the reference data): a change bumps the data set's
//                          counter and drops its body; a load from PostgreSQL stores only if the
//                          counter has not moved since it began. A redelivery costs one reload;
//                          a missing body is read from PostgreSQL, so readers never go without.
//   entry number           each change carries its account's gap-free entry number (the ledger
//                          rule) and the cache keeps the last it holds: an entry at or before it
//                          is a redelivery, the next one appends, a gap drops the cached window
//                          (readers then use PostgreSQL); a login's load marks the window
//                          "loading" before its database snapshot, so what arrives meanwhile is
//                          buffered. For a cache of numbered, append-only rows (the prefetched
//                          transaction windows, TransactionCache.ts).
// Rebuildable or not (`rebuild`): a read model copied from systems of record is "from-snapshot":
// a rebuild copies `snapshotSources` (default: `sources`) in a fresh snapshot and then reads the
// streams' tail. The dashboard and the profile are built from their systems; the credentials
// from the customer master (`cdc.identity` is a private copy of it). A read model kept in hashes
// or pointers rather than documents names its keys by `patterns` so a generation can be deleted.
// The others are "none", with the reason the tools give when they refuse them (`why`), and
// have no generations: the session documents are the system of record for sessions (login
// writes them; `session.events` only moves their activity), and the prefetched transaction
// windows are a cache (made at login with a time limit, answered from PostgreSQL on a miss:
// deleting them is always correct, so there is nothing to rebuild).
import { Effect, Option, type Scope } from "effect"
import type * as Database from "./Database.ts"
import * as DocumentStore from "./DocumentStore.ts"
import type * as RedisTopology from "./RedisTopology.ts"

export interface ReplayCounts {
  /** Units (a database transaction of one customer, or a snapshot row) handed to the projection. */
  readonly units: number
  /** Documents whose content moved: zero when everything replayed was already there. */
  readonly changed: number
  /** What did not add up (a range cutting a transaction in two, a missing commit). */
  readonly warnings: ReadonlyArray<string>
}

/** Applies entries of one stream partition, page after page, in stream order. */
export interface Replayer<Message, R> {
  readonly feed: (
    entries: ReadonlyArray<{ readonly entryId: string; readonly payload: Message }>
  ) => Effect.Effect<ReplayCounts, unknown, R>
  /** Rows of transactions whose commit was not in the range: not applied. */
  readonly unfinished: () => number
}

/** What every projection declares: what it reads, how it stays idempotent, and its runner. */
export interface Core<Change, R> {
  /** The read model: its generation pointer and document kind (the name the tools take). */
  readonly name: string
  /**
   * What it is built from: the CDC source systems (their streams `cdc.<system>.p<N>`) for a
   * rebuildable projection; the streams by name for the others.
   */
  readonly sources: ReadonlyArray<string>
  /** Its consumer group in `generation` (one group for a projection without generations). */
  readonly group: (generation: number) => string
  /** Which guard keeps it idempotent (see the table above). */
  readonly guard: "positions+revision" | "row-position" | "once" | "invalidate+reload" | "entry-number"
  /** The pure function from a change to the document operations it stands for (undefined: none), where there is one. */
  readonly opsOf?: (change: Change) => ReadonlyArray<DocumentStore.Op> | undefined
  /**
   * Runs the projector of `generation` in the current scope (the one runner); with `snapshotLsn`
   * it drops what the snapshot taken there holds; it announces writes once `announce()` says so.
   */
  readonly run: (
    generation: number,
    options: { readonly snapshotLsn?: string; readonly announce?: () => boolean; readonly partitions?: number }
  ) => Effect.Effect<unknown, unknown, R | Scope.Scope>
}

/** A read model copied from systems of record: rebuild, replay and reconcile take it. */
export interface Rebuildable<Change, Message, R> extends Core<Change, R> {
  readonly rebuild: "from-snapshot"
  /** The schemas a rebuild's fresh snapshot copies, when not `sources` (the credentials: the customer master). */
  readonly snapshotSources?: ReadonlyArray<string>
  /** A customer's document in `generation`. */
  readonly documentKey: (customerId: string, generation: number) => string
  /** Keys of a generation besides documents and groups (partition leases, membership, retention markers). */
  readonly keys: (generation: number, partitions: number) => ReadonlyArray<string>
  /**
   * SCAN MATCH patterns of a generation's keys when they are not documents (ReadModel.documentPattern):
   * a read model kept in hashes or pointers, deleted with the generation.
   */
  readonly patterns?: (generation: number) => ReadonlyArray<string>
  /** Writes one source's snapshot rows into `generation`, silently (readers do not use it yet). */
  readonly applySnapshot: (
    generation: number,
    source: string,
    rows: ReadonlyArray<Change>
  ) => Effect.Effect<void, unknown, R>
  readonly replayer: (generation: number, source: string) => Replayer<Message, R>
  /**
   * Compares the generation readers use with the systems of record (scripts/reconcile.ts), when
   * there is one to compare with; `recheckAfterMs`: look again at what differs, since a live
   * system is a little behind.
   */
  readonly reconcile?: (options: {
    readonly recheckAfterMs?: number
    readonly onProgress?: (checked: number) => void
  }) => Effect.Effect<Reconciliation, unknown, R | Database.Database | RedisTopology.RedisTopology>
}

/** A projection that cannot be rebuilt (see above): declared so the tools know it and say why not. */
export interface NotRebuildable<Change, R> extends Core<Change, R> {
  readonly rebuild: "none"
  /** Why not, in a phrase: the tools print `<name>: not rebuildable: <why>`. */
  readonly why: string
  /** What it writes, in words (its keys have no generation). */
  readonly documents: string
  /** Runs it in the current scope: there is no generation, snapshot or announcement to give. */
  readonly run: () => Effect.Effect<unknown, unknown, R | Scope.Scope>
}

export type Projection<Change, Message, R> = Rebuildable<Change, Message, R> | NotRebuildable<Change, R>

/** The one line the tools give when they refuse `projection`. */
export const refusal = (projection: NotRebuildable<never, unknown>): string =>
  `${projection.name}: not rebuildable: ${projection.why}`

export interface Reconciliation {
  readonly checked: number
  readonly mismatches: ReadonlyArray<{
    readonly customerId: string
    readonly document: string
    readonly what: string
    readonly expected?: unknown
    readonly actual?: unknown
  }>
}

/**
 * The given/when/then helper: given these messages of `source`, when the projection applies
 * them (through its replayer, as replay and the runner do), then the document of `customerId`
 * in `generation` (parsed; undefined when there is none).
 */
export const given = <Change, Message, R>(
  projection: Rebuildable<Change, Message, R>,
  source: string,
  messages: ReadonlyArray<Message>,
  generation = 1
) => ({
  thenDocument: (customerId: string) =>
    projection
      .replayer(generation, source)
      .feed(messages.map((payload, i) => ({ entryId: `${i + 1}-0`, payload })))
      .pipe(
        Effect.andThen(
          DocumentStore.DocumentStore.use((store) => store.getRaw(projection.documentKey(customerId, generation)))
        ),
        Effect.map((raw) => (Option.isSome(raw) ? (JSON.parse(raw.value) as unknown) : undefined))
      )
})
