// The dashboard document of one customer and the projection that keeps it: pure functions from
// (document, CDC changes) to document, so the rules are tested without Redis.
//
//   { customerId, revision, asOf,
//     sources: { deposits: { position, commitTime }, ... },   what the document reflects, per stream
//     totals: [{ currency, assets, liabilities, net }],       exact money ({amount, currency}), per currency
//     accounts: [...],                                        every product line, ordered
//     latestTransactions: [...] }                             the newest N across all accounts
//
// Rules. Changes come in units: a whole database transaction of this customer on one stream,
// or one snapshot row. A unit at or before the stream's recorded position was applied already
// (a redelivery) and changes nothing. The first row of a newer snapshot drops what the document
// held from that stream before: the snapshot builds it again from scratch. Totals are
// recomputed from the accounts, never incremented, so they cannot drift. Transactions are
// ordered newest first by booking time, then product line, then id (PgDashboard orders alike).
import type { Cdc } from "@bank/contracts"
import { currencyExponents, minorToText, type MoneyView } from "@bank/records"
import { revision } from "./Positions.ts"
import { accountOf, type Item, isSystem, type Json, products, type System, systems, transactionOf } from "./Products.ts"

export interface Source {
  readonly position: string
  readonly commitTime: string
}

export interface Total {
  readonly currency: string
  readonly assets: MoneyView
  readonly liabilities: MoneyView
  readonly net: MoneyView
}

export interface DashboardDocument {
  readonly customerId: string
  readonly revision: string
  /** Commit time of the newest change the document reflects; null before the first. */
  readonly asOf: string | null
  readonly sources: { readonly [S in System]?: Source }
  readonly totals: ReadonlyArray<Total>
  readonly accounts: ReadonlyArray<Item>
  readonly latestTransactions: ReadonlyArray<Item>
}

/** Changes applied together: one database transaction of one customer on one stream, or one snapshot row. */
export interface Unit {
  /** Encoded position (Positions.encode) of the transaction's commit, or of the snapshot row. */
  readonly position: string
  readonly commitTime: string
  readonly rows: ReadonlyArray<Cdc.RowChanged>
  /** For snapshot rows: the position just before the snapshot (Positions.snapshotStart). */
  readonly snapshotStart?: string
  /** The trace the transaction belongs to (its commit entry's traceparent), for the projector's span. */
  readonly traceparent?: string | undefined
}

export const defaultLatest = 20

export const empty = (customerId: string): DashboardDocument => ({
  customerId,
  revision: revision(0),
  asOf: null,
  sources: {},
  totals: [],
  accounts: [],
  latestTransactions: []
})

const systemRank = (id: string): number => systems.indexOf(id.slice(0, id.indexOf(":")) as System)
const numericId = (id: string): bigint => BigInt(id.slice(id.indexOf(":") + 1))

const compareIds = (a: string, b: string): number => {
  const bySystem = systemRank(a) - systemRank(b)
  if (bySystem !== 0) return bySystem
  const x = numericId(a)
  const y = numericId(b)
  return x === y ? 0 : x < y ? -1 : 1
}

/** Accounts: by product line, then id. */
export const compareAccounts = (a: Item, b: Item): number => compareIds(a.id, b.id)

/** Transactions: newest booking first; ties by product line, then the higher id first. */
export const compareTransactions = (a: Item, b: Item): number => {
  const at = String(a.bookedAt ?? "")
  const bt = String(b.bookedAt ?? "")
  if (at !== bt) return at < bt ? 1 : -1
  const bySystem = systemRank(a.id) - systemRank(b.id)
  return bySystem !== 0 ? bySystem : -compareIds(a.id, b.id)
}

/** Minor units of a money field of the document ({ amount, currency }); 0 when absent. */
const money = (value: Json | undefined): bigint => {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return 0n
  const { amount, currency } = value as { amount?: Json; currency?: Json }
  // Products.ts wrote it with exactly the currency's decimals, so dropping the point is exact.
  return typeof amount === "string" &&
    typeof currency === "string" &&
    currencyExponents.has(currency) &&
    /^-?[0-9]+(\.[0-9]+)?$/.test(amount)
    ? BigInt(amount.replace(".", ""))
    : 0n
}

/** Per currency: deposits, investment cash and market value are assets; card debt and loans are liabilities. */
export const totalsOf = (accounts: ReadonlyArray<Item>): ReadonlyArray<Total> => {
  const sums = new Map<string, { assets: bigint; liabilities: bigint }>()
  for (const account of accounts) {
    const currency = typeof account.currency === "string" ? account.currency : undefined
    if (currency === undefined) continue
    const sum = sums.get(currency) ?? { assets: 0n, liabilities: 0n }
    switch (account.system) {
      case "deposits":
        sum.assets += money(account.balance)
        break
      case "investments":
        sum.assets += money(account.cashBalance) + money(account.marketValue)
        break
      case "cards":
        sum.liabilities += money(account.balance)
        break
      case "lending":
        sum.liabilities += money(account.outstandingPrincipal)
        break
    }
    sums.set(currency, sum)
  }
  return [...sums]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([currency, s]) => {
      const exponent = currencyExponents.get(currency) ?? 0
      const view = (minor: bigint): MoneyView => ({ amount: minorToText(minor, exponent), currency })
      return { currency, assets: view(s.assets), liabilities: view(s.liabilities), net: view(s.assets - s.liabilities) }
    })
}

/** The customer a row belongs to (the new row's, else the old row's, else the key's). */
export const customerOf = (row: Cdc.RowChanged): string | undefined =>
  row.new?.customer_id ?? row.old?.customer_id ?? row.key.customer_id ?? undefined

interface Working {
  accounts: Map<string, Item>
  transactions: Array<Item>
}

const applyRow = (work: Working, system: System, row: Cdc.RowChanged, latest: number) => {
  if (row.schema !== system) return
  const spec = products[system]
  const values = row.op === "delete" ? row.old : row.new
  if (values === undefined) return
  if (row.table === spec.accounts) {
    const id = `${system}:${values[spec.accountId] ?? row.key[spec.accountId]}`
    if (row.op === "delete") work.accounts.delete(id)
    else work.accounts.set(id, accountOf(system, values, row.unchanged, work.accounts.get(id)))
  } else if (row.table === spec.transactions) {
    const id = `${system}:${values.transaction_id ?? row.key.transaction_id}`
    const at = work.transactions.findIndex((t) => t.id === id)
    if (row.op === "delete") {
      if (at >= 0) work.transactions.splice(at, 1)
      return
    }
    const transaction = transactionOf(system, values, row.unchanged, at >= 0 ? work.transactions[at] : undefined)
    if (at >= 0) work.transactions.splice(at, 1)
    // Insert in order; an older transaction than the N kept falls off again at once.
    let i = 0
    while (i < work.transactions.length && compareTransactions(work.transactions[i]!, transaction) < 0) i++
    work.transactions.splice(i, 0, transaction)
    if (work.transactions.length > latest) work.transactions.length = latest
  }
}

export interface Applied {
  readonly document: DashboardDocument
  /** Units applied (the rest were redeliveries). */
  readonly applied: number
  /** Position of the first unit applied: the document's position for the stream was before it. */
  readonly firstPosition?: string
}

/** Applies `units` of `system` (in stream order) to the customer's document. */
export const applyUnits = (
  current: DashboardDocument | undefined,
  customerId: string,
  system: System,
  units: ReadonlyArray<Unit>,
  options: { readonly latest?: number } = {}
): Applied => {
  const latest = options.latest ?? defaultLatest
  const base = current ?? empty(customerId)
  const work: Working = {
    accounts: new Map(base.accounts.map((a) => [a.id, a])),
    transactions: [...base.latestTransactions]
  }
  let source = base.sources[system]
  let applied = 0
  let firstPosition: string | undefined
  for (const unit of units) {
    if (source !== undefined && unit.position <= source.position) continue
    if (unit.snapshotStart !== undefined && (source === undefined || source.position < unit.snapshotStart)) {
      // The first row of a newer snapshot: forget this stream's part, the snapshot rebuilds it.
      const prefix = `${system}:`
      for (const id of [...work.accounts.keys()]) if (id.startsWith(prefix)) work.accounts.delete(id)
      work.transactions = work.transactions.filter((t) => !t.id.startsWith(prefix))
    }
    for (const row of unit.rows) applyRow(work, system, row, latest)
    source = { position: unit.position, commitTime: unit.commitTime }
    firstPosition ??= unit.position
    applied++
  }
  if (applied === 0) return { document: base, applied }
  const accounts = [...work.accounts.values()].sort(compareAccounts)
  const sources = { ...base.sources, [system]: source }
  const asOf = Object.values(sources).reduce<string | null>(
    (max, s) => (s && (max === null || s.commitTime > max) ? s.commitTime : max),
    null
  )
  const document: DashboardDocument = {
    customerId,
    revision: revision(Number(base.revision) + 1),
    asOf,
    sources,
    totals: totalsOf(accounts),
    accounts,
    latestTransactions: work.transactions
  }
  return { document, applied, ...(firstPosition !== undefined ? { firstPosition } : {}) }
}

/** The parts of a document the systems of record decide (what reconciliation compares). */
export const content = (document: Pick<DashboardDocument, "accounts" | "totals" | "latestTransactions">) => ({
  accounts: document.accounts,
  totals: document.totals,
  latestTransactions: document.latestTransactions
})

export { isSystem, type System, systems }
