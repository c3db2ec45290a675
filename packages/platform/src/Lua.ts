// Loads the Lua scripts shipped beside the code (packages/platform/src/lua/*.lua).
import { readFileSync } from "node:fs"

export const source = (name: string): string => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), "utf8")
