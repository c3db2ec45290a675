// The unused-Effect check (scripts/lib/effectResults.ts) finds an Effect built as a statement
// and never run, and leaves alone what is yielded, returned, run or dropped with `void`.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { unusedEffects } from "../scripts/lib/effectResults.ts"

// Inside the repository, so `effect` resolves from its node_modules.
const dir = mkdtempSync(join(fileURLToPath(new URL("..", import.meta.url)), ".effects-check-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("the unused-Effect check", () => {
  it("reports an Effect that is never run, and nothing else", { timeout: 120_000 }, () => {
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "ESNext",
          moduleResolution: "Bundler",
          target: "ES2022",
          types: [],
          skipLibCheck: true,
          noEmit: true
        },
        include: ["*.ts"]
      })
    )
    writeFileSync(
      join(dir, "planted.ts"),
      [
        'import { Effect } from "effect"',
        "export const program = Effect.gen(function*() {",
        '  Effect.logInfo("forgotten")', // line 3: built, never run
        '  yield* Effect.logInfo("run")',
        '  void Effect.logInfo("dropped on purpose")',
        "  return 1",
        "})",
        "export const run = () => {",
        "  Effect.runFork(program)",
        "  Effect.succeed(2).pipe(Effect.asVoid)", // line 10: built, never run
        "  Promise.resolve(3)",
        "}",
        ""
      ].join("\n")
    )
    const found = unusedEffects(join(dir, "tsconfig.json"))
    expect(found.map((f) => f.line)).toEqual([3, 10])
  })
})
