// Which account a transactions URL names: the API's one account id, `<system>:<id>` for the four
// product ledgers (`deposits:10`, `cards:7`, `lending:3`, `investments:5`), as the dashboard and
// the transfers show it. The ledgers' tables come from records' Ledgers.
import { ledgers } from "@bank/records"

export type Ledger = (typeof ledgers)[number]

export interface AccountRef {
  readonly ledger: Ledger
  /** The account's id in its ledger (digits). */
  readonly id: string
}

const bySystem = new Map(ledgers.map((l) => [l.system, l]))

export const ledgerOf = (system: string): Ledger | undefined => bySystem.get(system)

const MAX_ID = 2n ** 63n - 1n

export const parse = (text: string): AccountRef | undefined => {
  const match = /^([a-z]+):([1-9][0-9]{0,18})$/.exec(text)
  if (!match || BigInt(match[2]!) > MAX_ID) return undefined
  const ledger = bySystem.get(match[1]!)
  return ledger && { ledger, id: match[2]! }
}

/** The canonical form, `<system>:<id>`. */
export const format = (ref: { readonly ledger: Ledger; readonly id: string }): string =>
  `${ref.ledger.system}:${ref.id}`
