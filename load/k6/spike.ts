// k6 run load/k6/spike.ts   (parameters: load/scenarios.json, scenario "spike")
// A spike: ten times the traffic within five seconds, then back.
import { scenario } from "./K6Runtime.ts"

const { options: scenarioOptions, iteration } = scenario("spike", open("../scenarios.json"))

export const options = scenarioOptions
export default iteration
