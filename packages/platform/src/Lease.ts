// A lease: a key naming its holder that lapses unless renewed, so one process at a time does
// something (the active consumer of a stream, the one rebuild of a read model). lua/lease.lua.
import { script } from "effect/persistence/Redis"
import * as Lua from "./Lua.ts"

/** `(key, holder, ttlMs)`: 1 when `holder` holds the lease afterwards; ttlMs 0 gives it back. */
export const leaseScript = script((key: string, holder: string, ttlMs: number) => [key, holder, ttlMs], {
  lua: Lua.source("lease"),
  numberOfKeys: 1
}).withReturnType<number>()
