// `npm run lint:effects`: no Effect is built and then dropped (scripts/lib/effectResults.ts).
// Prints each one and exits 1 if there is one.
import { relative } from "node:path"
import { fileURLToPath } from "node:url"
import { unusedEffects } from "./lib/effectResults.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
const found = unusedEffects(`${root}tsconfig.json`)
for (const u of found) console.error(`${relative(root, u.file)}:${u.line}: an Effect that is never run: ${u.text}`)
if (found.length > 0) {
  console.error(
    `effects: ${found.length} Effect${found.length === 1 ? "" : "s"} never run (yield* it, run it, or \`void\` it on purpose)`
  )
  process.exit(1)
}
console.log("effects: every Effect built is used")
