// `npm run lint:boundaries`: the package boundaries of ARCHITECTURE.md (rules in
// scripts/lib/boundaries.ts). Prints every violation and exits 1 if there is one.
import { fileURLToPath } from "node:url"
import { check } from "./lib/boundaries.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
const violations = check(root)
for (const v of violations) console.error(`${v.rule.padEnd(15)} ${v.file}: ${v.detail}`)
if (violations.length > 0) {
  console.error(`boundaries: ${violations.length} violation${violations.length === 1 ? "" : "s"} (see ARCHITECTURE.md)`)
  process.exit(1)
}
console.log("boundaries: every import stays within the allowed dependencies")
