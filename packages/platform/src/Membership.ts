// Who is alive in a consumer group of the partition-owned mode, and which partitions each one
// should own. Every member heartbeats into one sorted set (lua/membership.lua, the server's
// clock); a member that missed its heartbeats for `ttlMs` drops out. Every member computes the
// same assignment from the same sorted member list (`assign`), so no coordinator is needed; a
// moment of disagreement while a member joins or leaves is harmless because a partition is only
// ever consumed under its lease (OwnedPartitions.ts).
import { Redis, script } from "effect/persistence/Redis"
import * as Keys from "./Keys.ts"
import * as Lua from "./Lua.ts"

export const membersKey = (group: string): string => Keys.global(`members:${group}`)

const membershipScript = script(
  (key: string, member: string, ttlMs: number, action: "beat" | "leave") => [key, member, ttlMs, action],
  { lua: Lua.source("membership"), numberOfKeys: 1 }
).withReturnType<Array<string>>()

/** Records a heartbeat of `member`; returns the live members, sorted. */
export const beat = (group: string, member: string, ttlMs: number) =>
  Redis.use((redis) => redis.eval(membershipScript)(membersKey(group), member, ttlMs, "beat"))

/** Takes `member` out at once (graceful shutdown), so the others rebalance without waiting. */
export const leave = (group: string, member: string, ttlMs: number) =>
  Redis.use((redis) => redis.eval(membershipScript)(membersKey(group), member, ttlMs, "leave"))

/**
 * The partitions `me` should own: partitions sorted by name, dealt round-robin over the sorted
 * members, so every member gets ⌊P/N⌋ or ⌈P/N⌉ and one system's partitions spread over members.
 */
export const assign = (
  partitions: ReadonlyArray<string>,
  members: ReadonlyArray<string>,
  me: string
): ReadonlyArray<string> => {
  const sorted = [...new Set(members)].sort()
  const index = sorted.indexOf(me)
  if (index < 0) return []
  return [...partitions].sort().filter((_, i) => i % sorted.length === index)
}
