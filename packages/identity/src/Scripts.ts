// The identity capability's Lua scripts (src/lua/*.lua, each opening with its KEYS, ARGV and
// reply; shared parts in src/lua/includes), loaded once and called by SHA through the `Redis`
// service, each through a typed signature. Every script touches one slot: one customer's keys
// ({c:<id>}), one token record, or one throttle subject.
import { Lua } from "@bank/platform"
import { script } from "effect/persistence/Redis"

const source = Lua.loader(new URL("./lua/", import.meta.url))

/** A customer's session index and state, and one session's document (SessionStore.keys). */
export interface SessionKeys {
  readonly index: string
  readonly state: string
  readonly document: string
}

export const openSession = script(
  (
    keys: Omit<SessionKeys, "document">,
    session: {
      readonly sessionId: string
      readonly now: number
      readonly deadline: number
      readonly absolute: number
      readonly accessHash: string
      readonly refreshHash: string
      readonly cap: number
      readonly policy: string
    }
  ) => [
    keys.index,
    keys.state,
    session.sessionId,
    String(session.now),
    String(session.deadline),
    String(session.absolute),
    session.accessHash,
    session.refreshHash,
    String(session.cap),
    session.policy
  ],
  { lua: source("openSession"), numberOfKeys: 2 }
).withReturnType<ReadonlyArray<string>>()

export const touchSession = script(
  (keys: SessionKeys, sessionId: string, now: number, idleMs: number) => [
    keys.index,
    keys.state,
    keys.document,
    sessionId,
    String(now),
    String(idleMs)
  ],
  { lua: source("touchSession"), numberOfKeys: 3 }
).withReturnType<number>()

export const rotateSession = script(
  (
    keys: SessionKeys,
    rotation: {
      readonly sessionId: string
      readonly now: number
      readonly idleMs: number
      readonly refreshHash: string
      readonly newAccessHash: string
      readonly newRefreshHash: string
    }
  ) => [
    keys.index,
    keys.state,
    keys.document,
    rotation.sessionId,
    String(rotation.now),
    String(rotation.idleMs),
    rotation.refreshHash,
    rotation.newAccessHash,
    rotation.newRefreshHash
  ],
  { lua: source("rotateSession"), numberOfKeys: 3 }
).withReturnType<ReadonlyArray<string>>()

export const closeSession = script(
  (keys: SessionKeys, sessionId: string) => [keys.index, keys.state, keys.document, sessionId],
  { lua: source("closeSession"), numberOfKeys: 3 }
).withReturnType<string | null>()

export const useRefreshToken = script((key: string) => [key], {
  lua: source("useRefreshToken"),
  numberOfKeys: 1
}).withReturnType<ReadonlyArray<string>>()

export const putToken = script(
  (key: string, ttlMs: number, fields: ReadonlyArray<string>) => [key, String(ttlMs), ...fields],
  { lua: source("putToken"), numberOfKeys: 1 }
).withReturnType<number>()

export const throttleHit = script((key: string, windowMs: number) => [key, String(windowMs)], {
  lua: source("throttleHit"),
  numberOfKeys: 1
}).withReturnType<readonly [number, number]>()

export const throttleFailure = script(
  (failures: string, lock: string, windowMs: number, threshold: number, lockMs: number) => [
    failures,
    lock,
    String(windowMs),
    String(threshold),
    String(lockMs)
  ],
  { lua: source("throttleFailure"), numberOfKeys: 2 }
).withReturnType<readonly [number, number]>()

/** `position`: LSN high and low 32 bits and seq; `values`: set: field, value, ...; forget: tombstone ms. */
export const credentials = script(
  (
    key: string,
    position: readonly [string, string, string],
    mode: "set" | "clear-login" | "forget",
    values: ReadonlyArray<string>
  ) => [key, ...position, mode, ...values],
  { lua: source("credentials"), numberOfKeys: 1 }
).withReturnType<readonly [number, string, string, number, string, string]>()

export const deleteIfEquals = script((key: string, expected: string) => [key, expected], {
  lua: source("deleteIfEquals"),
  numberOfKeys: 1
}).withReturnType<number>()

export const revokeToken = script(
  (key: string, reason: string, tombstoneMs: number) => [key, reason, String(tombstoneMs)],
  {
    lua: source("revokeToken"),
    numberOfKeys: 1
  }
).withReturnType<number>()

export const openStream = script(
  (key: string, streamId: string, now: number, cap: number, lifetimeMs: number) => [
    key,
    streamId,
    String(now),
    String(cap),
    String(lifetimeMs)
  ],
  { lua: source("openStream"), numberOfKeys: 1 }
).withReturnType<ReadonlyArray<string>>()

export const setTokenField = script((key: string, field: "r" | "a", value: string) => [key, field, value], {
  lua: source("setTokenField"),
  numberOfKeys: 1
}).withReturnType<number>()
