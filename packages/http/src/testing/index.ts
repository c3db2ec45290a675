// Test helpers of the HTTP kit: checking answers against the OpenAPI document (for tests only).
export { compileDocument, type Verdict } from "./ResponseValidator.ts"
