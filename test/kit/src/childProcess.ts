// A process of the system run as its own child, so a test or benchmark can SIGKILL it like a
// crash or SIGTERM it like a deployment: `node --import tsx <file>` (not npx, so signals reach
// it) from the repository root, keeping the last lines it printed for failure messages.
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))

export interface ChildHandle {
  readonly child: ChildProcess
  /** What it printed lately, for failure messages. */
  readonly output: () => string
  readonly exited: Promise<void>
  /** SIGKILL: a crash. */
  readonly kill: () => Promise<void>
  /** SIGTERM: a graceful stop. */
  readonly stop: () => Promise<void>
}

export interface StartOptions {
  /** Another checkout to run the file from (benchmarks compare before and after); default this one. */
  readonly cwd?: string
  /** Node flags before `--import tsx` (e.g. `--cpu-prof`). */
  readonly nodeArgs?: ReadonlyArray<string>
}

/** Runs `node --import tsx <file>` from the repository root with `env` added. */
export const startProcess = (file: string, env: Record<string, string>, options: StartOptions = {}): ChildHandle => {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", "tsx", file], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, LOG_FORMAT: "json", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const lines: Array<string> = []
  const keep = (chunk: Buffer) => {
    lines.push(chunk.toString())
    if (lines.length > 200) lines.shift()
  }
  child.stdout!.on("data", keep)
  child.stderr!.on("data", keep)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig)
    await exited
  }
  return { child, output: () => lines.join(""), exited, kill: () => signal("SIGKILL"), stop: () => signal("SIGTERM") }
}
