// One customer, whole: the master record, the log-in, CRM data, and a random mix of products
// with their histories. Everything comes from a random stream seeded by (run seed, customer
// id), so the customer is the same whichever batch or process generates it.
import type { Money } from "@bank/records"
import { hashSeed, random } from "../Prng.ts"
import { countries, interestTopics, wishListProducts } from "./Catalogue.ts"
import { creditCard } from "./Cards.ts"
import type { CustomerContext, PriceBook, Segment } from "./Context.ts"
import { currentAccount, savingsAccount } from "./Deposits.ts"
import { investmentAccount } from "./Investments.ts"
import { DAY, type Ids, isoDate, isoTime, type Sink, startOfDay, type Window } from "./Ledger.ts"
import { loan } from "./Lending.ts"

export interface RunContext {
  readonly seed: string
  readonly window: Window
  readonly units: Money.MinorUnits
  readonly ids: Ids
  readonly sink: Sink
  readonly prices: PriceBook
  /** The stored password hash of customer `id` (demo log-ins: `demo<id>` / `demo-password`). */
  readonly passwordHash: (customerId: number) => string
}

export const username = (customerId: number): string => `demo${customerId}`

const YEAR = 365.25 * DAY

// Plain ASCII for e-mail addresses: "Jürgen O'Brien" gives "jurgen.obrien".
const ascii = (text: string) =>
  text
    .normalize("NFD")
    .replace(/[^A-Za-z]/g, "")
    .toLowerCase()

export const generateCustomer = (run: RunContext, customerId: number): void => {
  const rng = random(hashSeed(run.seed, "customer", customerId))
  const { window, sink } = run
  const country = rng.weighted(countries.map((c) => [c, c.weight] as const))
  const segment = rng.weighted<Segment>([
    ["retail", 70],
    ["premier", 12],
    ["private", 3],
    ["business", 8],
    ["student", 7]
  ])
  const age = segment === "student" ? rng.int(18, 26) : rng.int(22, 84)
  const born = startOfDay(window.end - Math.floor((age + rng.next()) * YEAR))
  const since = startOfDay(window.start - Math.floor(Math.min(age - 17, 1 + rng.next() * 20) * YEAR))
  const givenName = rng.pick(country.givenNames)
  const familyName = rng.pick(country.familyNames)
  const kyc = rng.weighted([
    ["verified", 92],
    ["pending", 5],
    ["expired", 2],
    ["rejected", 1]
  ] as const)
  const roles = ["customer"]
  if (segment === "premier" || segment === "private") roles.push("premium")
  if (segment === "business") roles.push("business_admin")
  if (rng.chance(0.03)) roles.push("beta_tester")
  const street = rng.pick(country.streets)
  const number = rng.int(1, 180)
  const created = isoTime(since + rng.int(8 * 3600, 18 * 3600) * 1000)
  const reviewed = kyc === "pending" ? null : isoTime(since + rng.int(1, 20) * DAY)
  sink.push("customers", [
    customerId,
    givenName,
    familyName,
    `${ascii(givenName)}.${ascii(familyName)}.${customerId}@example.com`,
    `+${country.callingCode}${String(1_500_000_000 + customerId).slice(-10)}`,
    country.numberFirst ? `${number} ${street}` : `${street} ${number}`,
    rng.chance(0.15) ? `Apt ${rng.int(1, 40)}` : null,
    country.postalCode(rng),
    rng.pick(country.cities),
    country.code,
    isoDate(born),
    segment,
    kyc,
    reviewed,
    roles,
    created,
    reviewed ?? created
  ])

  const lastLogin = window.end - rng.int(1, 14 * 24 * 3600) * 1000
  sink.push("credentials", [
    customerId,
    username(customerId),
    run.passwordHash(customerId),
    "active",
    0,
    isoTime(lastLogin),
    created,
    created,
    created
  ])

  const consented = rng.chance(0.8)
  const theme = rng.weighted([
    ["system", 5],
    ["light", 3],
    ["dark", 2]
  ] as const)
  sink.push("preferences", [
    customerId,
    country.language,
    theme,
    consented && rng.chance(0.5),
    consented && rng.chance(0.2),
    consented && rng.chance(0.6),
    consented ? (reviewed ?? created) : null,
    created,
    created
  ])
  const wishes = new Set<string>()
  for (
    let n = rng.weighted([
      [0, 5],
      [1, 3],
      [2, 2],
      [3, 1]
    ] as const);
    n > 0;
    n--
  )
    wishes.add(rng.pick(wishListProducts))
  for (const product of wishes)
    sink.push("wishList", [customerId, product, null, isoTime(window.start - rng.int(1, 400) * DAY)])
  const interests = new Set<string>()
  for (let n = rng.int(0, 4); n > 0; n--) interests.add(rng.pick(interestTopics))
  for (const interest of interests)
    sink.push("interests", [customerId, interest, rng.int(10, 100), isoTime(window.start)])

  const ctx: CustomerContext = {
    rng,
    customerId,
    segment,
    since,
    window,
    units: run.units,
    ids: run.ids,
    sink,
    prices: run.prices
  }
  const rich = segment === "premier" || segment === "private"
  if (rng.chance(0.97)) currentAccount(ctx, "EUR", true)
  if (rng.chance(rich ? 0.2 : 0.04)) currentAccount(ctx, rng.pick(["USD", "GBP", "CHF", "PLN", "SEK"]), false)
  if (rng.chance(rich ? 0.8 : 0.5)) savingsAccount(ctx, "EUR")
  if (rng.chance(rich ? 0.3 : 0.06)) savingsAccount(ctx, rng.pick(["USD", "GBP", "CHF", "JPY", "KWD", "SEK"]))
  if (rng.chance(segment === "student" ? 0.25 : 0.45))
    creditCard(ctx, rng.chance(0.95) ? "EUR" : rng.pick(["GBP", "USD"]))
  if (rng.chance(0.06)) creditCard(ctx, "EUR")
  if (segment !== "student" && rng.chance(0.14)) loan(ctx, "personal", "EUR")
  if (segment !== "student" && age >= 25 && rng.chance(0.2)) loan(ctx, "mortgage", rng.chance(0.95) ? "EUR" : "CHF")
  if (rng.chance(rich ? 0.7 : 0.18)) investmentAccount(ctx, rng.chance(0.8) ? "EUR" : "USD")
}
