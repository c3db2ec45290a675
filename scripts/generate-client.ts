// Writes the typed TypeScript client's API table (packages/client/src/generated.ts) from the
// OpenAPI document the edge serves, so the client is derived from the API definition and never
// written twice: a type per component schema, and per operation its method, path, parameters,
// body and answers. `npx tsx scripts/generate-client.ts` after changing a route;
// test/client.test.ts fails while the file is out of date.
import * as Api from "@bank/edge"
import { writeFileSync } from "node:fs"
import { generate } from "../packages/client/src/Generate.ts"

const target = new URL("../packages/client/src/generated.ts", import.meta.url)
writeFileSync(target, generate(Api.document as Record<string, unknown>))
console.log(`wrote ${target.pathname}`)
