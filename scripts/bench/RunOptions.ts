// What every benchmark script (npm run bench, bench-edge, bench-login, bench/edgeStep) shares on
// its command line: the run-length flags with their defaults in the help text, their parsing (a
// number of zero or more; anything else is a usage error, exit 2), and the progress line
// `<script> <seconds since start>s  <text>` on stderr.
import { CommandLine } from "@bank/platform"

const flags = {
  customers: ["N", "customers to seed"],
  seconds: ["S", "seconds per run"],
  warmup: ["S", "warm-up seconds before each run"],
  connections: ["N", "keep-alive connections of the load generator"]
} as const

interface NumberFlag {
  readonly type: "string"
  readonly value: string
  readonly description: string
}

/** The options of the flags given (--customers, --seconds, --warmup, --connections), each with its default. */
export const runOptions = <K extends keyof typeof flags>(defaults: Readonly<Record<K, number>>) =>
  Object.fromEntries(
    Object.entries<number>(defaults).map(([flag, fallback]) => {
      const [value, description] = flags[flag as K]
      return [flag, { type: "string", value, description: `${description} (default ${fallback})` }]
    })
  ) as { readonly [F in K]: NumberFlag }

/** The flag's number (`_` allowed as a separator), `fallback` when it is absent. */
export const numberOf = (script: string, flag: string, text: string | undefined, fallback: number): number => {
  const n = text === undefined ? fallback : Number(text.replaceAll("_", ""))
  return n >= 0 ? n : CommandLine.usageError(script, `--${flag} needs a number, got ${text}`)
}

/** Prints `<script> <seconds since now>s  <text>` to stderr. */
export const progress = (script: string) => {
  const began = performance.now()
  return (text: string) =>
    console.error(`${script} ${((performance.now() - began) / 1000).toFixed(0).padStart(4)}s  ${text}`)
}
