// processes.json is the one list of the system's processes: docker-compose.yml must run the
// same ones with the same entry points, and each entry point must exist.
import { existsSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import manifest from "../processes.json" with { type: "json" }

const root = new URL("../", import.meta.url)
const compose = readFileSync(new URL("docker-compose.yml", root), "utf8")

// The services built from the shared process template, with their command.
const composeProcesses = (): Map<string, ReadonlyArray<string>> => {
  const services = new Map<string, ReadonlyArray<string>>()
  for (const block of compose.split(/\n(?=  [a-z0-9-]+:\n)/)) {
    const name = /^ {2}([a-z0-9-]+):\n/.exec(block)?.[1]
    if (name === undefined || !/^ {4}<<: \*process$/m.test(block)) continue
    const command = /^ {4}command: (\[.*\])$/m.exec(block)?.[1]
    services.set(name, command ? (JSON.parse(command) as Array<string>) : [])
  }
  return services
}

describe("processes.json", () => {
  it("names an existing main.ts for every process", () => {
    for (const p of manifest.processes) {
      expect(p.entry).toMatch(/^packages\/[a-z-]+\/src\/main\.ts$/)
      expect(existsSync(new URL(p.entry, root)), p.entry).toBe(true)
    }
  })

  it("lists the same processes as docker-compose.yml, with the same entry points", () => {
    const services = composeProcesses()
    expect([...services.keys()].sort()).toEqual(manifest.processes.map((p) => p.name).sort())
    for (const p of manifest.processes)
      expect(services.get(p.name), p.name).toEqual(["node", "--import", "tsx", p.entry])
  })
})
