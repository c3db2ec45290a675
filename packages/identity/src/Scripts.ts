// The identity capability's Lua scripts (src/lua/*.lua, each opening with its KEYS, ARGV and
// reply), loaded once and called by SHA through the `Redis` service. Every script touches one
// slot: one customer's keys ({c:<id>}), one token record, or one throttle subject.
import { readFileSync } from "node:fs"
import { script } from "effect/persistence/Redis"

const source = (name: string): string => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), "utf8")

export const openSession = script(
  (keys: readonly [string, string], args: ReadonlyArray<string>) => [...keys, ...args],
  { lua: source("openSession"), numberOfKeys: 2 }
).withReturnType<ReadonlyArray<string>>()

export const touchSession = script(
  (keys: readonly [string, string, string], args: ReadonlyArray<string>) => [...keys, ...args],
  { lua: source("touchSession"), numberOfKeys: 3 }
).withReturnType<number>()

export const rotateSession = script(
  (keys: readonly [string, string, string], args: ReadonlyArray<string>) => [...keys, ...args],
  { lua: source("rotateSession"), numberOfKeys: 3 }
).withReturnType<ReadonlyArray<string>>()

export const closeSession = script(
  (keys: readonly [string, string, string], sessionId: string) => [...keys, sessionId],
  { lua: source("closeSession"), numberOfKeys: 3 }
).withReturnType<string | null>()

export const useRefreshToken = script((key: string) => [key], { lua: source("useRefreshToken"), numberOfKeys: 1 })
  .withReturnType<ReadonlyArray<string>>()

export const putToken = script(
  (key: string, ttlMs: number, fields: ReadonlyArray<string>) => [key, String(ttlMs), ...fields],
  { lua: source("putToken"), numberOfKeys: 1 }
).withReturnType<number>()

export const throttleHit = script((key: string, windowMs: number) => [key, String(windowMs)], {
  lua: source("throttleHit"),
  numberOfKeys: 1
}).withReturnType<readonly [number, number]>()

export const throttleFailure = script(
  (failures: string, lock: string, windowMs: number, threshold: number, lockMs: number) =>
    [failures, lock, String(windowMs), String(threshold), String(lockMs)],
  { lua: source("throttleFailure"), numberOfKeys: 2 }
).withReturnType<readonly [number, number]>()

export const credentials = script(
  (key: string, args: ReadonlyArray<string>) => [key, ...args],
  { lua: source("credentials"), numberOfKeys: 1 }
).withReturnType<readonly [number, string, string, number, string, string]>()

export const deleteIfEquals = script((key: string, expected: string) => [key, expected], {
  lua: source("deleteIfEquals"),
  numberOfKeys: 1
}).withReturnType<number>()

export const revokeToken = script((key: string, reason: string, tombstoneMs: number) => [key, reason, String(tombstoneMs)], {
  lua: source("revokeToken"),
  numberOfKeys: 1
}).withReturnType<number>()

export const openStream = script(
  (key: string, streamId: string, now: number, cap: number, lifetimeMs: number) => [key, streamId, String(now), String(cap), String(lifetimeMs)],
  { lua: source("openStream"), numberOfKeys: 1 }
).withReturnType<ReadonlyArray<string>>()

export const setTokenField = script((key: string, field: "r" | "a", value: string) => [key, field, value], {
  lua: source("setTokenField"),
  numberOfKeys: 1
}).withReturnType<number>()
