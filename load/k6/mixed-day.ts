// k6 run load/k6/mixed-day.ts   (parameters: load/scenarios.json, scenario "mixed-day")
// A mixed day: login, dashboard, session updates, profile, transaction pages, transfers.
// Run the core-banking simulator meanwhile (scenarios.json says at what rate), e.g.
//   npx tsx scripts/simulate.ts --rate 100 --duration 3m
import { scenario } from "./K6Runtime.ts"

const { options: scenarioOptions, iteration } = scenario("mixed-day", open("../scenarios.json"))

export const options = scenarioOptions
export default iteration
