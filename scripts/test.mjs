// `npm test`: every test tier, from a fresh clone as well. Installs what the tests need first
// (the pinned Node.js and the npm dependencies; redis-server, PostgreSQL, Prometheus and chromium
// through apt-get when root, saying so), then runs Vitest on the pinned Node.js with the given arguments
// (`npm test -- --project unit`, `npm test -- path/to/file.test.ts`).
// Plain JavaScript rather than TypeScript because it runs before `npm ci` installed anything.
import { spawn } from "node:child_process"
import { join } from "node:path"
import { installDependencies, installServers, root } from "./lib/bootstrap.mjs"

const log = (line) => console.log(`test | ${line}`)
try {
  installDependencies(log)
  // The tests start private servers of their own; REDIS_URL / DATABASE_URL are not used. The
  // metrics test scrapes with Prometheus; the browser test drives Debian's chromium.
  installServers(log, { needPrometheus: true, needChromium: true, wantCompose: true })
} catch (error) {
  console.error(`test | ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
const node =
  process.platform === "linux" && process.arch === "x64" ? join(root, "node_modules", ".bin", "node") : process.execPath
const vitest = join(root, "node_modules", "vitest", "vitest.mjs")
const child = spawn(node, [vitest, "run", ...process.argv.slice(2)], { cwd: root, stdio: "inherit" })
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig))
child.on("exit", (code, sig) => process.exit(code ?? (sig === "SIGINT" ? 130 : 143)))
