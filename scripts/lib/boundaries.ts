// The package boundaries of ARCHITECTURE.md, checked over the import graph (`npm run lint`,
// scripts/check-boundaries.ts). Every import of every TypeScript/JavaScript file under packages/,
// test/, scripts/ and load/ is read with the TypeScript scanner (static, dynamic and re-exports)
// and judged by these rules:
//   cycle              the packages' dependency graph (production imports and declared
//                      dependencies) has a cycle;
//   platform           @bank/platform imports another workspace package;
//   contracts          @bank/contracts imports anything but the platform;
//   capability         a capability imports another capability or the edge;
//   layer              any other import the allowed-dependency table below does not allow;
//   undeclared         a package imports a workspace package its package.json does not declare
//                      (dependencies; devDependencies count for test code only);
//   deep-import        an import of a subpath a package does not export (`@bank/x/File`);
//   outside-package    a relative import leaving the package (`../../../scripts/lib/...`);
//   test-kit           production code imports @bank/test-kit or a package's `/testing`;
//   unknown-package    a workspace package this table does not place.
// Test code is `*.test.ts` and `src/testing/**`; it may also use the test kit and (except in the
// platform and contracts) as fixtures the systems of record, the core-banking generator and the
// CDC connector.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative, resolve, sep } from "node:path"
import ts from "typescript"

export type Rule =
  | "cycle"
  | "platform"
  | "contracts"
  | "capability"
  | "layer"
  | "undeclared"
  | "deep-import"
  | "outside-package"
  | "test-kit"
  | "unknown-package"

export interface Violation {
  readonly rule: Rule
  /** Path from the repository root ("" for the package graph). */
  readonly file: string
  readonly detail: string
}

export const capabilities: ReadonlyArray<string> = ["identity", "profile", "dashboard", "payments", "prefetch"]

/** What each package's production code may import (short names: `platform` is @bank/platform). */
export const allowed: Readonly<Record<string, ReadonlyArray<string>>> = {
  platform: [],
  contracts: ["platform"],
  http: ["platform", "contracts"],
  records: ["platform", "contracts"],
  cdc: ["platform", "contracts"],
  "core-banking": ["platform", "contracts", "records"],
  ...Object.fromEntries(capabilities.map((c) => [c, ["platform", "contracts", "http", "records"]])),
  // The typed client is generated from the OpenAPI document: it imports nothing.
  client: [],
  // The web app: its routes are built with the kit, its code runs on the client.
  web: ["http", "client"],
  edge: ["platform", "contracts", "http", "records", ...capabilities, "web"],
  "test-kit": ["platform"]
}

/** What test code may import besides its package's own allowed list. */
const fixtures: ReadonlyArray<string> = ["test-kit", "platform", "contracts", "http", "records", "core-banking", "cdc"]

interface Package {
  readonly short: string
  readonly dir: string
  readonly dependencies: ReadonlySet<string>
  readonly devDependencies: ReadonlySet<string>
  readonly exports: ReadonlySet<string>
}

const scope = "@bank/"
const sourceFile = /\.(ts|mts|mjs|js)$/
const skipped = new Set(["node_modules", ".git", "dist", "coverage"])

const readJson = (file: string): any => JSON.parse(readFileSync(file, "utf8"))

const workspaceDirs = (root: string): Array<string> =>
  ((readJson(join(root, "package.json")).workspaces as Array<string>) ?? [])
    .flatMap((pattern) => {
      if (!pattern.endsWith("/*")) return [join(root, pattern)]
      const parent = join(root, pattern.slice(0, -2))
      return existsSync(parent) ? readdirSync(parent).map((name) => join(parent, name)) : []
    })
    .filter((dir) => existsSync(join(dir, "package.json")))

const bankNames = (record: Record<string, string> | undefined): Set<string> =>
  new Set(
    Object.keys(record ?? {})
      .filter((n) => n.startsWith(scope))
      .map((n) => n.slice(scope.length))
  )

const readPackages = (root: string): Map<string, Package> => {
  const packages = new Map<string, Package>()
  for (const dir of workspaceDirs(root)) {
    const json = readJson(join(dir, "package.json"))
    if (typeof json.name !== "string" || !json.name.startsWith(scope)) continue
    const exportsField = json.exports
    const exports = new Set<string>(
      exportsField === undefined ? ["."] : typeof exportsField === "string" ? ["."] : Object.keys(exportsField)
    )
    packages.set(json.name.slice(scope.length), {
      short: json.name.slice(scope.length),
      dir,
      dependencies: bankNames(json.dependencies),
      devDependencies: bankNames(json.devDependencies),
      exports
    })
  }
  return packages
}

const walk = (dir: string, out: Array<string>): Array<string> => {
  if (!existsSync(dir)) return out
  for (const name of readdirSync(dir)) {
    if (skipped.has(name)) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path, out)
    else if (sourceFile.test(name) && !name.endsWith(".d.ts")) out.push(path)
  }
  return out
}

/** Every module specifier `file` imports, re-exports or loads dynamically. */
export const importsOf = (text: string): Array<string> =>
  ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName)

const isTestCode = (file: string): boolean => /\.test\.[mc]?[jt]s$/.test(file) || file.split(sep).includes("testing")

const within = (dir: string, file: string) => {
  const r = relative(dir, file)
  return r !== "" && !r.startsWith("..") && !r.startsWith(sep)
}

const findCycles = (graph: ReadonlyMap<string, ReadonlySet<string>>): Array<Array<string>> => {
  const cycles: Array<Array<string>> = []
  const seen = new Set<string>()
  const state = new Map<string, "open" | "done">()
  const stack: Array<string> = []
  const visit = (node: string) => {
    state.set(node, "open")
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") {
        const cycle = [...stack.slice(stack.indexOf(next)), next]
        const key = [...cycle.slice(0, -1)].sort().join(" ")
        if (!seen.has(key)) {
          seen.add(key)
          cycles.push(cycle)
        }
      } else if (!state.has(next)) visit(next)
    }
    stack.pop()
    state.set(node, "done")
  }
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node)
  return cycles
}

/** Checks the repository at `root`; no violations means the boundaries hold. */
export const check = (root: string): Array<Violation> => {
  root = resolve(root)
  const packages = readPackages(root)
  const violations: Array<Violation> = []
  const report = (rule: Rule, file: string, detail: string) =>
    violations.push({ rule, file: relative(root, file), detail })
  const graph = new Map<string, Set<string>>()
  const edge = (from: string, to: string) => (graph.get(from) ?? graph.set(from, new Set()).get(from)!).add(to)

  for (const p of packages.values()) {
    if (!(p.short in allowed))
      report(
        "unknown-package",
        join(p.dir, "package.json"),
        `@bank/${p.short} has no place in the allowed-dependency table (scripts/lib/boundaries.ts, ARCHITECTURE.md)`
      )
    for (const d of p.dependencies) edge(p.short, d)
  }

  const ownerOf = (file: string): Package | undefined => [...packages.values()].find((p) => within(p.dir, file))
  const files = ["packages", "test", "scripts", "load"].flatMap((d) => walk(join(root, d), []))

  for (const file of files) {
    const owner = ownerOf(file)
    const testCode = owner?.short === "test-kit" || isTestCode(file)
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      if (spec.startsWith(".")) {
        const target = resolve(dirname(file), spec)
        if (owner !== undefined && !within(owner.dir, target)) {
          report("outside-package", file, `${spec} leaves @bank/${owner.short}; import a package instead`)
        }
        continue
      }
      if (!spec.startsWith(scope)) continue
      const [short = "", ...rest] = spec.slice(scope.length).split("/")
      const subpath = rest.length === 0 ? "." : `./${rest.join("/")}`
      const target = packages.get(short)
      if (target === undefined) {
        report("undeclared", file, `${spec}: no workspace package @bank/${short}`)
        continue
      }
      if (!target.exports.has(subpath)) {
        report("deep-import", file, `${spec}: @bank/${short} exports ${[...target.exports].join(", ")} only`)
      }
      if (owner === undefined || owner.short === short) continue

      const declared = owner.dependencies.has(short) || (testCode && owner.devDependencies.has(short))
      if (!declared) {
        report(
          "undeclared",
          file,
          `@bank/${owner.short} imports ${spec} without declaring @bank/${short} in its package.json${testCode ? " (devDependencies will do for tests)" : ""}`
        )
      }
      const testKit = short === "test-kit" || subpath === "./testing"
      if (testKit && !testCode) {
        report("test-kit", file, `production code of @bank/${owner.short} imports ${spec}, which is for tests only`)
        continue
      }
      if (!testCode) edge(owner.short, short)

      const isCapability = capabilities.includes(owner.short)
      const permitted = new Set([...(allowed[owner.short] ?? []), ...(testCode ? fixtures : [])])
      if (isCapability && (capabilities.includes(short) || short === "edge")) {
        report(
          "capability",
          file,
          `capability @bank/${owner.short} imports ${spec}: capabilities talk through streams, and only the edge composes them`
        )
      } else if (owner.short === "platform" && short !== "test-kit") {
        report("platform", file, `@bank/platform imports ${spec}: the platform imports no package`)
      } else if (owner.short === "contracts" && short !== "platform" && short !== "test-kit") {
        report("contracts", file, `@bank/contracts imports ${spec}: contracts import the platform only`)
      } else if (!permitted.has(short)) {
        report(
          "layer",
          file,
          `@bank/${owner.short} may not import ${spec} (allowed: ${[...permitted].join(", ") || "nothing"})`
        )
      }
    }
  }

  for (const cycle of findCycles(graph))
    report("cycle", root, `package cycle: ${cycle.map((c) => `@bank/${c}`).join(" → ")}`)
  return violations
}
