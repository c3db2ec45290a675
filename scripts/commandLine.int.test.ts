// Every script answers --help with its usage (exit 0) before doing anything, and a mistyped
// flag or a missing argument with one line on stderr (exit 2), never a stack trace. The scripts
// run with no REDIS_URL / DATABASE_URL pointing anywhere real: one that got past its command
// line would fail to connect, not exit 0 or 2 at once. `unlock --help` must not unlock anyone.
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("..", import.meta.url))
const run = (script: string, ...args: Array<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", script, ...args],
      {
        cwd: root,
        encoding: "utf8",
        timeout: 60_000,
        // Nothing listens on port 1: a script that tried to work would fail differently.
        env: { ...process.env, REDIS_URL: "redis://127.0.0.1:1", DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" }
      },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr })
    )
  })

// A sample across the kinds (operations, data, repair, servers, load); they all use platform/CommandLine.ts.
const scripts = [
  "scripts/unlock.ts",
  "scripts/seed.ts",
  "scripts/replay.ts",
  "scripts/services.ts",
  "scripts/dlq.ts",
  "load/run.ts"
]

describe.concurrent("command lines", () => {
  it.each(scripts)(
    "%s --help prints its usage and exits 0",
    async (script) => {
      const { code, stdout, stderr } = await run(script, "--help")
      expect(code, stderr).toBe(0)
      expect(stdout).toMatch(/usage: /)
      expect(stdout).toMatch(/-h, --help/)
    },
    60_000
  )

  it.each(scripts)(
    "%s with an unknown flag prints one line and exits 2",
    async (script) => {
      const { code, stderr } = await run(script, "--no-such-flag")
      expect(code).toBe(2)
      expect(stderr.trim().split("\n")).toHaveLength(1)
      expect(stderr).toMatch(/no-such-flag.*see --help/)
      expect(stderr).not.toMatch(/\n\s+at /)
    },
    60_000
  )

  it("unlock --help does not take --help for a username; a missing username is a usage error", async () => {
    const help = await run("scripts/unlock.ts", "--help")
    expect(help.stdout).not.toMatch(/unlocked|was not locked/)
    const missing = await run("scripts/unlock.ts")
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^unlock: missing argument/)
  }, 60_000)

  it("rebuild and replay refuse a projection that is not rebuildable with its reason, exit 2, before touching Redis", async () => {
    const rebuild = await run("scripts/rebuild.ts", "sessions")
    expect(rebuild.code).toBe(2)
    expect(rebuild.stderr.trim().split("\n")).toHaveLength(1)
    expect(rebuild.stderr).toMatch(
      /^rebuild: sessions: not rebuildable: the session documents are the system of record/
    )
    const replay = await run("scripts/replay.ts", "cdc.deposits.p0", "--from", "-", "--into", "transaction-windows")
    expect(replay.code).toBe(2)
    expect(replay.stderr).toMatch(/^replay: transaction-windows: not rebuildable: the windows are a cache/)
    // --help lists every projection and whether it rebuilds.
    const help = await run("scripts/rebuild.ts", "--help")
    for (const name of ["dashboard", "profile", "credentials", "reference-data"])
      expect(help.stdout).toMatch(new RegExp(`^  ${name} +rebuilds from a fresh snapshot$`, "m"))
    for (const name of ["sessions", "transaction-windows"])
      expect(help.stdout).toMatch(new RegExp(`^  ${name} +not rebuildable: `, "m"))
  }, 60_000)

  it("a flag missing its value is a usage error", async () => {
    const { code, stderr } = await run("scripts/seed.ts", "--customers")
    expect(code).toBe(2)
    expect(stderr).toMatch(/^seed: .*--customers/)
  }, 60_000)
})
