import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import * as Lua from "./Lua.ts"

const dir = mkdtempSync(join(tmpdir(), "lua-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const write = (name: string, text: string) => {
  mkdirSync(join(dir, name, ".."), { recursive: true })
  writeFileSync(join(dir, `${name}.lua`), text)
}

describe("Lua.load", () => {
  it("replaces each --- @include line with the file, its own includes first, each file once", () => {
    write("includes/base", "local function base() return 1 end\n")
    write("includes/twice", '--- @include "includes/base"\nlocal function twice() return base() * 2 end\n')
    write("script", '-- header\n--- @include "includes/base"\n--- @include "includes/twice"\nreturn twice()\n')
    expect(Lua.load(pathToFileURL(`${dir}/`), "script")).toBe(
      "-- header\nlocal function base() return 1 end\nlocal function twice() return base() * 2 end\nreturn twice()\n"
    )
  })

  it("fails on an include that does not exist, naming it", () => {
    write("broken", '--- @include "includes/missing"\n')
    expect(() => Lua.load(pathToFileURL(`${dir}/`), "broken")).toThrow(/missing\.lua/)
  })
})
