// Loads the Lua scripts shipped beside the code, once, at module load. A script may include
// shared Lua, as BullMQ's scripts do: a line
//   --- @include "includes/session"
// is replaced by that file (relative to the script's folder, `.lua` added), itself with its
// includes; each file goes in at most once per script, so a library included twice is defined
// once. Each package keeps its scripts in `src/lua/` (shared parts in `src/lua/includes/`) and
// makes its own loader: `const source = Lua.loader(new URL("./lua/", import.meta.url))`.
import { readFileSync } from "node:fs"

const includeLine = /^---[ \t]*@include[ \t]+"([^"]+)"[ \t]*(\n|$)/gm

const expand = (dir: URL, name: string, seen: Set<string>): string => {
  const file = new URL(`${name}.lua`, dir)
  if (seen.has(file.href)) return ""
  seen.add(file.href)
  return readFileSync(file, "utf8").replace(includeLine, (_line, included: string) => {
    const text = expand(dir, included, seen).trimEnd()
    return text === "" ? "" : `${text}\n`
  })
}

/** Lua `name` (e.g. "rotateSession") from the folder `dir`, its includes expanded. */
export const load = (dir: URL, name: string): string => expand(dir, name, new Set())

/** A loader for the scripts in `dir`: `loader(new URL("./lua/", import.meta.url))("lease")`. */
export const loader =
  (dir: URL) =>
  (name: string): string =>
    load(dir, name)

/** The platform's own scripts (packages/platform/src/lua). */
export const source = loader(new URL("./lua/", import.meta.url))
