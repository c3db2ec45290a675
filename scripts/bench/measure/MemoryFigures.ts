// Redis memory per session, per token and per document (MEMORY USAGE on the keys this run's
// logins and projectors wrote), each against the bytes of its data, extrapolated to a customer
// base. The extrapolation assumes every customer holds one session with its token pair at once
// (a Monday-morning peak; the cap is IDENTITY_MAX_SESSIONS) and one document of each kind.
import type { BenchContext } from "../Context.ts"
import { bytes, fmt, notMeasured } from "../Figures.ts"
import * as Memory from "../Memory.ts"

export const memory = async (ctx: BenchContext, population: number) => {
  ctx.say("memory: MEMORY USAGE on real keys")
  const stats = await Promise.all((await Memory.kinds()).map((kind) => Memory.measure(ctx.redis, kind)))
  const items = Memory.perItem(stats)
  const perCustomer = { memory: 0, payload: 0, missing: [] as Array<string> }
  const reasons: Record<string, string> = {
    session: "no session in Redis (no login succeeded)",
    "access token": "no access token in Redis (no login succeeded)",
    "refresh token": "no refresh token in Redis (no login succeeded)",
    "login data (credentials + username)": "no login data in Redis (the credentials projection did not run)",
    "dashboard document": "no dashboard document in Redis (the dashboard projector is not there or wrote none)",
    "profile document": "no profile document in Redis (the profile projector is not there or wrote none)"
  }
  for (const item of items) {
    const label = `${item.name}`
    if (!item.measured) {
      ctx.figures.push(notMeasured("Memory", label, "bytes", reasons[item.name] ?? "no key found"))
      perCustomer.missing.push(item.name)
      continue
    }
    perCustomer.memory += item.memory
    perCustomer.payload += item.payload
    ctx.figures.push({
      group: "Memory",
      label,
      value: item.memory,
      unit: "bytes",
      detail: `${bytes(item.memory * population)} for ${fmt(population / 1e6, 0)} M; from ${item.from}`,
      baseline: { label: "its data", value: item.payload }
    })
  }
  if (perCustomer.memory > 0) {
    ctx.figures.push({
      group: "Memory",
      label: `${fmt(population / 1e6, 0)} M customers, one session each`,
      value: perCustomer.memory * population,
      unit: "bytes",
      detail: `${bytes(perCustomer.memory)} per customer${perCustomer.missing.length ? `; without ${perCustomer.missing.join(", ")} (not measured)` : ""}; streams, indexes of other capabilities and replication buffers not included`,
      baseline: { label: "its data", value: perCustomer.payload * population }
    })
  }
  ctx.method.push(
    "Memory: every key matching each kind's pattern (built from `packages/platform/src/Keys.ts` and identity's key layout) is counted with SCAN; up to 300 spread over them get `MEMORY USAGE key SAMPLES 0` and the size of their data (string length, hash fields and values, sorted-set members plus 8 bytes a score, JSON text). " +
      "A session is its document plus its share of the customer's session index and token-state hash. The ratio is Redis memory over the data's own bytes: the overhead. " +
      `The extrapolation multiplies by ${fmt(population, 0)} customers, each with one session and token pair and one document of each kind.`
  )
}
