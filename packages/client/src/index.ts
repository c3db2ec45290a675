// @bank/client: the typed TypeScript client of the public API, derived from /openapi.json
// (generated.ts, written by scripts/generate-client.ts) with a fetch-only runtime (Client.ts).
// The web app and the load scenarios use it.
export * from "./Client.ts"
export * from "./generated.ts"
