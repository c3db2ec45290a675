// `npx tsx scripts/profile/jsonText.ts [baseline-checkout]`: JsonText.stringify on a dashboard-
// sized document, this checkout's next to another's (e.g. a copy taken before a change), in
// one process so both see the same machine. Not a test.
import { pathToFileURL } from "node:url"
import { JsonText as Current } from "@bank/platform"

const other = process.argv[2]
const Baseline: typeof Current | undefined = other
  ? await import(pathToFileURL(`${other}/packages/platform/src/documentStore/JsonText.ts`).href)
  : undefined

const item = (i: number) => ({
  id: `deposits:${i}`,
  system: "deposits",
  accountId: "deposits:1",
  amount: "-1250",
  currency: "EUR",
  bookedAt: `2025-06-15T10:${String(i % 60).padStart(2, "0")}:00.000000Z`,
  description: `Card payment ${i}`,
  counterparty: "Grocery store",
  category: "groceries",
  runningBalance: "100000"
})
const document = {
  customerId: "42",
  revision: "000000000017",
  asOf: "2025-06-15T10:00:00.000000Z",
  sources: { deposits: { position: "0000000000001000:0000000003", commitTime: "2025-06-15T10:00:00.000000Z" } },
  totals: [{ currency: "EUR", assets: "100000", liabilities: "0", net: "100000" }],
  accounts: Array.from({ length: 4 }, (_, i) => ({ ...item(i), iban: "DE00000000000000000042", balance: "100000" })),
  latestTransactions: Array.from({ length: 20 }, (_, i) => item(i))
}
const time = (stringify: typeof Current.stringify, rounds: number) => {
  const t = performance.now()
  for (let i = 0; i < rounds; i++) stringify(document)
  return ((performance.now() - t) * 1000) / rounds
}
const bytes = Current.stringify(document).length
for (let round = 0; round < 3; round++) {
  const current = time(Current.stringify, 20_000)
  const baseline = Baseline ? time(Baseline.stringify, 20_000) : Number.NaN
  console.log(
    `${bytes} bytes: current ${current.toFixed(2)} µs, baseline ${baseline.toFixed(2)} µs, ratio ${(baseline / current).toFixed(2)}x`
  )
}
