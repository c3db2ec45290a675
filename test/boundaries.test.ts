// The boundary check (scripts/lib/boundaries.ts) fails on each kind of violation planted in a
// small repository that otherwise keeps every rule, and passes on this repository.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { check, type Rule } from "../scripts/lib/boundaries.ts"

type Files = Record<string, string>

const pkg = (name: string, deps: ReadonlyArray<string> = [], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    name: `@bank/${name}`,
    exports: { ".": "./src/index.ts" },
    dependencies: Object.fromEntries(deps.map((d) => [`@bank/${d}`, "*"])),
    ...extra
  })

// A repository that keeps every rule: the planted files below each break one.
const clean: Files = {
  "package.json": JSON.stringify({ workspaces: ["packages/*", "test/kit"] }),
  "packages/platform/package.json": pkg("platform", [], { devDependencies: { "@bank/test-kit": "*" } }),
  "packages/platform/src/index.ts": "export const platform = 1\n",
  "packages/platform/src/Thing.int.test.ts": 'import { useRedis } from "@bank/test-kit"\n',
  "packages/contracts/package.json": pkg("contracts", ["platform"]),
  "packages/contracts/src/index.ts": 'import { platform } from "@bank/platform"\n',
  "packages/http/package.json": pkg("http", ["platform", "contracts"]),
  "packages/http/src/index.ts": 'import { platform } from "@bank/platform"\n',
  "packages/identity/package.json": pkg("identity", ["platform", "contracts", "http"], {
    devDependencies: { "@bank/test-kit": "*" }
  }),
  "packages/identity/src/index.ts": 'import { Run } from "@bank/http"\nimport "./Routes.ts"\n',
  "packages/identity/src/Routes.ts": 'import { Identity } from "@bank/contracts"\n',
  "packages/identity/src/Routes.test.ts": 'import { useRedis } from "@bank/test-kit"\n',
  "packages/payments/package.json": pkg("payments", ["platform", "http"]),
  "packages/payments/src/index.ts": 'import { Run } from "@bank/http"\n',
  "packages/edge/package.json": pkg("edge", ["identity", "payments", "http"]),
  "packages/edge/src/index.ts":
    'import * as Identity from "@bank/identity"\nimport * as Payments from "@bank/payments"\n',
  "test/kit/package.json": pkg("test-kit"),
  "test/kit/src/index.ts": "export const useRedis = () => {}\n",
  "test/edge.e2e.test.ts": 'import { useRedis } from "@bank/test-kit"\nimport * as Edge from "@bank/edge"\n'
}

const roots: Array<string> = []
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
})

const repo = (files: Files): string => {
  const root = mkdtempSync(join(tmpdir(), "boundaries-"))
  roots.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

const rulesBroken = (plant: Files): Array<Rule> =>
  [...new Set(check(repo({ ...clean, ...plant })).map((v) => v.rule))].sort()

describe("the boundary check", () => {
  it("passes the clean repository", () => {
    expect(check(repo(clean))).toEqual([])
  })

  const plants: ReadonlyArray<[string, Rule, Files]> = [
    [
      "a package cycle",
      "cycle",
      {
        "packages/http/package.json": pkg("http", ["platform", "contracts", "identity"]),
        "packages/http/src/index.ts": 'import "@bank/identity"\n'
      }
    ],
    [
      "the platform importing a package",
      "platform",
      {
        "packages/platform/package.json": pkg("platform", ["contracts"]),
        "packages/platform/src/Uses.ts": 'import { Identity } from "@bank/contracts"\n'
      }
    ],
    [
      "contracts importing more than the platform",
      "contracts",
      {
        "packages/contracts/package.json": pkg("contracts", ["platform", "http"]),
        "packages/contracts/src/Uses.ts": 'import { Run } from "@bank/http"\n'
      }
    ],
    [
      "a capability importing another capability",
      "capability",
      {
        "packages/payments/package.json": pkg("payments", ["platform", "http", "identity"]),
        "packages/payments/src/Uses.ts": 'import * as Identity from "@bank/identity"\n'
      }
    ],
    [
      "a capability importing the edge",
      "capability",
      {
        "packages/payments/package.json": pkg("payments", ["platform", "http", "edge"]),
        "packages/payments/src/Uses.ts": 'import "@bank/edge"\n'
      }
    ],
    [
      "the HTTP kit importing a capability",
      "layer",
      {
        "packages/http/package.json": pkg("http", ["platform", "contracts", "payments"]),
        "packages/http/src/Uses.ts": 'export * from "@bank/payments"\n'
      }
    ],
    [
      "an undeclared workspace import",
      "undeclared",
      {
        "packages/payments/src/Uses.ts": 'import { Identity } from "@bank/contracts"\n'
      }
    ],
    [
      "a deep import past a package's exports",
      "deep-import",
      {
        "test/edge.e2e.test.ts": 'import { Run } from "@bank/http/Run"\n'
      }
    ],
    [
      "a relative import out of the package",
      "outside-package",
      {
        "packages/identity/src/Uses.ts": 'import { x } from "../../../scripts/lib/helper.ts"\n'
      }
    ],
    [
      "production code importing the test kit",
      "test-kit",
      {
        "packages/identity/package.json": pkg("identity", ["platform", "contracts", "http", "test-kit"]),
        "packages/identity/src/Uses.ts": 'const kit = await import("@bank/test-kit")\n'
      }
    ],
    [
      "a package the table does not place",
      "unknown-package",
      {
        "packages/newcomer/package.json": pkg("newcomer"),
        "packages/newcomer/src/index.ts": "export {}\n"
      }
    ]
  ]

  for (const [what, rule, plant] of plants) {
    it(`fails on ${what} (${rule})`, () => {
      expect(rulesBroken(plant)).toContain(rule)
    })
  }

  it("holds on this repository", () => {
    expect(check(fileURLToPath(new URL("..", import.meta.url)))).toEqual([])
  })
})
