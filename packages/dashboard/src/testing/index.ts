// Test helpers for suites that run the dashboard (exported as @bank/dashboard/testing).
export * from "./E2e.ts"
export * from "./E2e.ts"
