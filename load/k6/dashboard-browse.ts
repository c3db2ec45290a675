// k6 run load/k6/dashboard-browse.ts   (parameters: load/scenarios.json, scenario "dashboard-browse")
// Dashboard browsing with a token check on every request (and forged tokens that must get 401).
import { scenario } from "./K6Runtime.ts"

const { options: scenarioOptions, iteration } = scenario("dashboard-browse", open("../scenarios.json"))

export const options = scenarioOptions
export default iteration
