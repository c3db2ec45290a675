// Test helpers for suites that run the CDC connector (exported as @bank/cdc/testing).
export * from "./CdcTesting.ts"
