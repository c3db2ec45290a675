// The one way every script and process reads its command line, so they all behave alike:
// `--help` / `-h` prints the usage and exits 0 before the script does anything; an unknown flag,
// a flag without its value, a malformed value or a wrong number of arguments prints one line
// (`<name>: <what is wrong> (see --help)`) and exits 2, never a stack trace.
//
//   const { values, positionals } = CommandLine.parse({
//     name: "unlock", summary: "Lift a login lockout.", usage: "<username> [--by <who>]",
//     options: { by: { type: "string", description: "who did it, for the audit trail" } },
//     positionals: { min: 1, max: 1 }
//   })
import { parseArgs } from "node:util"

export interface OptionSpec {
  readonly type: "string" | "boolean"
  readonly description: string
  readonly short?: string
  readonly multiple?: boolean
  /** The value's name in the help text (default: the type). */
  readonly value?: string
}

export interface Spec<O extends Readonly<Record<string, OptionSpec>>> {
  /** As people type it, e.g. `npx tsx scripts/unlock.ts`. */
  readonly name: string
  readonly summary: string
  /** What follows the name, e.g. `<username> [--by <who>]`. */
  readonly usage?: string
  readonly options?: O
  /** How many positional arguments are allowed (default none). */
  readonly positionals?: { readonly min?: number; readonly max?: number }
  /** Paragraphs after the options: environment variables, examples, exit codes. */
  readonly details?: string
}

type Values<O extends Readonly<Record<string, OptionSpec>>> = {
  -readonly [K in keyof O]?: O[K]["type"] extends "boolean"
    ? O[K]["multiple"] extends true
      ? Array<boolean>
      : boolean
    : O[K]["multiple"] extends true
      ? Array<string>
      : string
}

/** The help text of a spec. */
export const help = <O extends Readonly<Record<string, OptionSpec>>>(spec: Spec<O>): string => {
  const lines = [`${spec.summary}`, "", `usage: ${spec.name}${spec.usage ? ` ${spec.usage}` : ""}`]
  const options: Array<[string, string]> = Object.entries(spec.options ?? {}).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` <${o.value ?? "value"}>` : ""}`,
    o.description
  ])
  options.push(["-h, --help", "show this help and exit"])
  const width = Math.max(...options.map(([flag]) => flag.length))
  lines.push("", "options:", ...options.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`))
  if (spec.details) lines.push("", spec.details.trim())
  return `${lines.join("\n")}\n`
}

/** Prints `<name>: <message> (see --help)` on stderr and exits 2. */
export const usageError = (name: string, message: string): never => {
  process.stderr.write(`${name}: ${message} (see --help)\n`)
  process.exit(2)
}

/** Parses `argv` (default the process's) against `spec`; `--help` prints and exits 0, misuse exits 2. */
export const parse = <const O extends Readonly<Record<string, OptionSpec>>>(
  spec: Spec<O>,
  argv: ReadonlyArray<string> = process.argv.slice(2)
): { readonly values: Values<O>; readonly positionals: ReadonlyArray<string> } => {
  const words = spec.name.split(" ").filter((word) => !word.startsWith("-"))
  const name = words
    .at(-1)!
    .split("/")
    .pop()!
    .replace(/\.[mc]?[jt]s$/, "")
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(help(spec))
    process.exit(0)
  }
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {}
  for (const [key, o] of Object.entries(spec.options ?? {})) {
    options[key] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }
  }
  let parsed: { values: Record<string, unknown>; positionals: Array<string> }
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true }) as typeof parsed
  } catch (error) {
    // node:util's messages are one sentence; drop its advice about `--` and `-`.
    const message = error instanceof Error ? error.message.split(/\.\s/)[0]!.replace(/\.$/, "") : String(error)
    return usageError(name, message)
  }
  const { min = 0, max = min } = spec.positionals ?? {}
  const count = parsed.positionals.length
  if (count < min) usageError(name, `missing argument${min - count > 1 ? "s" : ""}: expected ${spec.usage ?? `${min}`}`)
  if (count > max) usageError(name, `unexpected argument ${JSON.stringify(parsed.positionals[max])}`)
  return { values: parsed.values as Values<O>, positionals: parsed.positionals }
}

/** A whole positive integer flag value, or exit 2 naming the flag. */
export const positiveInt = (name: string, flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const n = Number(value.replaceAll("_", ""))
  if (!Number.isInteger(n) || n < 1)
    usageError(name, `--${flag} needs a positive whole number, got ${JSON.stringify(value)}`)
  return n
}
