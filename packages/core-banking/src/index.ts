// @bank/core-banking: stand-ins for the bank's product back ends. The deterministic demo data
// generator that fills the systems of record (Generator.ts, scripts/seed.ts) and the activity
// simulator that keeps writing to them as the back ends would (Simulator.ts, scripts/simulate.ts).
// Nothing in production imports it.
export * as Generator from "./Generator.ts"
export * as Simulator from "./Simulator.ts"
export { type SimulatorSummary } from "./Simulator.ts"
export { DEMO_PASSWORD } from "./Generator.ts"
