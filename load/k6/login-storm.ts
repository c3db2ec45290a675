// k6 run load/k6/login-storm.ts   (parameters: load/scenarios.json, scenario "login-storm")
// Monday-morning login storm: many distinct demo users log in, each then loads the dashboard.
import { scenario } from "./K6Runtime.ts"

const { options: scenarioOptions, iteration } = scenario("login-storm", open("../scenarios.json"))

export const options = scenarioOptions
export default iteration
