// `npx tsx scripts/profile/envelope.ts [baseline-checkout]`: decoding and encoding CDC stream
// entries (Envelope.decode / encode), this checkout's next to another's, in one process. Not a test.
import { Cdc } from "@bank/contracts"
import { Envelope as Current } from "@bank/platform"
import { Effect } from "effect"
import { pathToFileURL } from "node:url"

const other = process.argv[2]
const Baseline: typeof Current | undefined = other
  ? await import(pathToFileURL(`${other}/packages/platform/src/Envelope.ts`).href)
  : undefined

const spec = Cdc.partition("deposits", 0)
const row: Cdc.RowChanged = {
  _tag: "RowChanged",
  schema: "deposits",
  table: "transactions",
  op: "insert",
  key: { transaction_id: "77" },
  new: {
    transaction_id: "77",
    account_id: "5",
    customer_id: "5",
    entry_no: "77",
    amount: "-1250",
    currency: "EUR",
    booking_date: "2025-06-15",
    value_date: "2025-06-15",
    booked_at: "2025-06-15 10:00:00+00",
    description: "Card payment 77",
    counterparty: "Grocery store",
    category: "groceries",
    running_balance: "100000"
  },
  commitLsn: "0/1A2B",
  seq: 0,
  commitTime: "2025-06-15 10:00:00+00",
  xid: 9
}
const fields = Current.encoder(spec)(Current.make(spec, { key: "5", payload: row }))
const rounds = 20_000
const time = (decode: typeof Current.decode) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const t = performance.now()
      for (let i = 0; i < rounds; i++) yield* decode(spec, "1-1", fields, 1)
      return ((performance.now() - t) * 1000) / rounds
    })
  )
const publish = (M: typeof Current) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const t = performance.now()
      for (let i = 0; i < rounds; i++) yield* M.encode(spec, M.make(spec, { key: "5", payload: row }))
      return ((performance.now() - t) * 1000) / rounds
    })
  )
for (let round = 0; round < 3; round++) {
  const current = await time(Current.decode)
  const baseline = Baseline ? await time(Baseline.decode) : Number.NaN
  const currentOut = await publish(Current)
  const baselineOut = Baseline ? await publish(Baseline) : Number.NaN
  console.log(
    `decode: current ${current.toFixed(2)} µs, baseline ${baseline.toFixed(2)} µs (${(baseline / current).toFixed(2)}x); ` +
      `make+encode: current ${currentOut.toFixed(2)} µs, baseline ${baselineOut.toFixed(2)} µs (${(baselineOut / currentOut).toFixed(2)}x)`
  )
}
