// The ledger rule of every product system, checked against the data: an account's balance is
// the sum of its entries and the running balance of its latest one; entries are numbered
// 1..last_entry_no without gaps; every running balance is the sum of the amounts up to it.
// An investment account's market value is the sum of its holdings'. A reconciliation job, the
// tests and the simulator's summary all ask the same question, so it lives here once.
import { Database } from "@bank/platform"
import { Effect } from "effect"

interface Ledger {
  readonly system: string
  readonly accounts: string
  readonly id: string
  readonly balance: string
  readonly entries: string
}

export const ledgers: ReadonlyArray<Ledger> = [
  {
    system: "deposits",
    accounts: "deposits.accounts",
    id: "account_id",
    balance: "balance",
    entries: "deposits.transactions"
  },
  { system: "cards", accounts: "cards.cards", id: "card_id", balance: "balance", entries: "cards.transactions" },
  {
    system: "lending",
    accounts: "lending.loans",
    id: "loan_id",
    balance: "outstanding",
    entries: "lending.transactions"
  },
  {
    system: "investments",
    accounts: "investments.accounts",
    id: "account_id",
    balance: "cash_balance",
    entries: "investments.transactions"
  }
]

export interface Discrepancy {
  readonly system: string
  readonly accountId: string
  readonly problem: string
}

const accountsQuery = (l: Ledger) => `
  SELECT a.${l.id}::text AS id, a.${l.balance}::text AS balance, a.last_entry_no::text AS last_entry_no,
         e.total::text AS total, e.entries::text AS entries, e.max_entry::text AS max_entry, e.last_running::text AS last_running
  FROM ${l.accounts} a
  LEFT JOIN LATERAL (
    SELECT sum(amount) AS total, count(*) AS entries, max(entry_no) AS max_entry,
           (SELECT running_balance FROM ${l.entries} t2 WHERE t2.${l.id} = a.${l.id} ORDER BY entry_no DESC LIMIT 1) AS last_running
    FROM ${l.entries} t WHERE t.${l.id} = a.${l.id}
  ) e ON true
  WHERE a.${l.balance} <> COALESCE(e.total, 0)
     OR a.last_entry_no <> e.entries OR e.entries <> COALESCE(e.max_entry, 0)
     OR (e.entries > 0 AND a.${l.balance} <> e.last_running)
  ORDER BY a.${l.id} LIMIT 20`

const chainQuery = (l: Ledger) => `
  SELECT ${l.id}::text AS id, entry_no::text AS entry_no FROM (
    SELECT ${l.id}, entry_no, running_balance,
           sum(amount) OVER (PARTITION BY ${l.id} ORDER BY entry_no ROWS UNBOUNDED PRECEDING) AS cumulative
    FROM ${l.entries}
  ) t WHERE running_balance <> cumulative ORDER BY ${l.id}, entry_no LIMIT 20`

const valuationQuery = `
  SELECT a.account_id::text AS id, a.market_value::text AS market_value, COALESCE(h.total, 0)::text AS holdings
  FROM investments.accounts a
  LEFT JOIN (SELECT account_id, sum(market_value) AS total FROM investments.holdings GROUP BY account_id) h USING (account_id)
  WHERE a.market_value <> COALESCE(h.total, 0) ORDER BY a.account_id LIMIT 20`

/** Every breach of the ledger rule (at most 20 per check); empty when the books are consistent. */
export const check = Effect.fn("Ledgers.check")(function* () {
  const db = yield* Database.Database
  const found: Array<Discrepancy> = []
  for (const l of ledgers) {
    type AccountRow = {
      id: string
      balance: string
      last_entry_no: string
      total: string | null
      entries: string
      max_entry: string | null
      last_running: string | null
    }
    for (const r of yield* db.query<AccountRow>(accountsQuery(l))) {
      found.push({
        system: l.system,
        accountId: r.id,
        problem:
          `${l.balance} ${r.balance}, sum of entries ${r.total ?? 0}, last running balance ${r.last_running ?? "-"}, ` +
          `last_entry_no ${r.last_entry_no}, entries ${r.entries}, highest entry_no ${r.max_entry ?? 0}`
      })
    }
    for (const r of yield* db.query<{ id: string; entry_no: string }>(chainQuery(l))) {
      found.push({
        system: l.system,
        accountId: r.id,
        problem: `running balance of entry ${r.entry_no} is not the sum of the amounts up to it`
      })
    }
  }
  for (const r of yield* db.query<{ id: string; market_value: string; holdings: string }>(valuationQuery)) {
    found.push({
      system: "investments",
      accountId: r.id,
      problem: `market_value ${r.market_value}, holdings sum to ${r.holdings}`
    })
  }
  return found as ReadonlyArray<Discrepancy>
})
