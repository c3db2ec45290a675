// `npx tsx scripts/dlq.ts list | show | redrive | purge`: the dead-letter streams, for operators
// (platform/DeadLetters.ts does the work; the admin API under /v1/admin/dead-letters the same).
// Reads REDIS_URL. Exit code 0 on success, 1 when a redrive did not settle or was dead-lettered
// again, 2 on a usage error.
import { CommandLine, DeadLetters, RedisClient } from "@bank/platform"
import { Effect, Logger } from "effect"
import { createInterface } from "node:readline/promises"

const commands = ["list", "show", "redrive", "purge"] as const
const { values, positionals } = CommandLine.parse({
  name: "npx tsx scripts/dlq.ts",
  summary: "List, show, redrive or purge dead letters (entries a consumer group gave up on).",
  usage: "list|show|redrive|purge [--stream S] [--group G] [--from ID] [--to ID] [ID ...]",
  options: {
    stream: {
      type: "string",
      value: "S",
      description: "the stream, e.g. payments.commands (list without it: every stream's depth)"
    },
    group: { type: "string", value: "G", description: "only dead letters of this consumer group" },
    from: { type: "string", value: "ID", description: "first dead-letter id, inclusive (default: the oldest)" },
    to: { type: "string", value: "ID", description: "last dead-letter id, inclusive (default: the newest)" },
    count: { type: "string", value: "N", description: "at most N dead letters (default 100)" },
    "timeout-ms": {
      type: "string",
      value: "N",
      description: "redrive: how long to wait for the group per entry (default 30000)"
    },
    yes: { type: "boolean", short: "y", description: "purge without asking" },
    json: { type: "boolean", description: "JSON on stdout" }
  },
  positionals: { min: 1, max: Number.MAX_SAFE_INTEGER },
  details: [
    "list      the dead letters of --stream (id, original entry id, group, deliveries, error); without --stream, each stream's depth",
    "show      one or more dead letters in full, by id, with the original fields",
    "redrive   put the original entry (same message id and trace context) on its stream again; the dead letter is",
    "          removed once its group acknowledged it (or dead-lettered it again)",
    "purge     delete dead letters for good (asks first unless --yes)",
    "",
    "Examples:",
    "  npx tsx scripts/dlq.ts list",
    "  npx tsx scripts/dlq.ts list --stream payments.commands --group payments",
    "  npx tsx scripts/dlq.ts redrive --stream payments.commands --from 1765000000000-0 --to 1765000999999-0",
    "  npx tsx scripts/dlq.ts purge --stream cdc.deposits 1765000000000-0 --yes"
  ].join("\n")
})

const fail = (text: string): never => CommandLine.usageError("dlq", text)
const [command, ...ids] = positionals
if (!commands.includes(command as (typeof commands)[number]))
  fail(`unknown command ${JSON.stringify(command)}; one of ${commands.join(", ")}`)
for (const id of [...ids, values.from, values.to])
  if (id !== undefined && !DeadLetters.isEntryId(id))
    fail(`${JSON.stringify(id)} is not an entry id (like 1765000000000-0)`)
if (command !== "list" && values.stream === undefined) fail(`${command} needs --stream`)
if (command === "show" && ids.length === 0) fail("show needs the dead-letter ids")
if (command === "list" && ids.length > 0) fail("list takes --from/--to, not ids")
if (ids.length > 0 && (values.from !== undefined || values.to !== undefined)) fail("give ids or --from/--to, not both")
const count = CommandLine.positiveInt("dlq", "count", values.count) ?? 100
const timeoutMs = CommandLine.positiveInt("dlq", "timeout-ms", values["timeout-ms"]) ?? 30_000

const selection: DeadLetters.Selection = {
  stream: values.stream ?? "",
  count,
  ...(values.group !== undefined ? { group: values.group } : {}),
  ...(values.from !== undefined ? { from: values.from } : {}),
  ...(values.to !== undefined ? { to: values.to } : {}),
  ...(ids.length > 0 ? { ids } : {})
}

const print = (value: unknown, text: () => string) => console.log(values.json ? JSON.stringify(value) : text())
const line = (d: DeadLetters.DeadLetter) =>
  `${d.id}  entry ${d.entryId}  group ${d.group}  deliveries ${d.deliveries}  at ${d.at}  ${d.error.split("\n")[0]!.slice(0, 160)}`

const confirm = async (question: string): Promise<boolean> => {
  if (!process.stdin.isTTY) return fail("purge asks for confirmation on a terminal; pass --yes to purge without asking")
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  const answer = await rl.question(`${question} [y/N] `)
  rl.close()
  return /^y(es)?$/i.test(answer.trim())
}

const program = Effect.gen(function* () {
  switch (command) {
    case "list": {
      if (values.stream === undefined) {
        const depths = yield* DeadLetters.streams()
        print(depths, () =>
          depths.length === 0 ? "no dead letters" : depths.map((d) => `${d.stream}  ${d.depth}`).join("\n")
        )
        return 0
      }
      const letters = yield* DeadLetters.list(selection)
      print(letters, () => (letters.length === 0 ? "no dead letters" : letters.map(line).join("\n")))
      return 0
    }
    case "show": {
      const letters = yield* DeadLetters.list(selection)
      if (letters.length === 0) console.error("dlq: no such dead letter")
      print(letters, () =>
        letters
          .map((d) =>
            [line(d), ...d.fields.map(([name, value]) => `  ${name}: ${value}`), `  error: ${d.error}`].join("\n")
          )
          .join("\n\n")
      )
      return letters.length === 0 ? 1 : 0
    }
    case "redrive": {
      const outcomes = yield* DeadLetters.redrive(selection, { timeoutMs })
      print(outcomes, () =>
        outcomes.length === 0
          ? "nothing to redrive"
          : outcomes
              .map(
                (o) =>
                  `${o.id}  ${o.outcome}  as ${o.newEntryId}${o.outcome === "failed-again" ? `  ${o.error.split("\n")[0]}` : ""}`
              )
              .join("\n")
      )
      return outcomes.every((o) => o.outcome === "redriven") ? 0 : 1
    }
    default: {
      const letters = yield* DeadLetters.list(selection)
      if (letters.length === 0) {
        print([], () => "nothing to purge")
        return 0
      }
      if (
        !values.yes &&
        !(yield* Effect.promise(() =>
          confirm(`purge ${letters.length} dead letter(s) of ${selection.stream} for good?`)
        ))
      ) {
        console.error("dlq: nothing purged")
        return 1
      }
      const purged = yield* DeadLetters.purge({ ...selection, ids: letters.map((d) => d.id) })
      print(purged, () => `purged ${purged.length} dead letter(s) of ${selection.stream}`)
      return 0
    }
  }
})

const run = Effect.runPromise(program.pipe(Effect.provide(RedisClient.layerConfig), Effect.provide(Logger.layer([]))))
process.exit(
  await run.catch((error: unknown) => {
    console.error(`dlq: ${error instanceof Error ? error.message : String(error)}`)
    return 1
  })
)
