// The login data the identity actor needs, projected into Redis from the customer master by
// CredentialsProjection.ts, so a login never reads PostgreSQL:
//   {c:<id>}:credentials          hash: username, passwordHash (self-describing scrypt string),
//                                 status, lockedUntil, roles (comma-separated), pos
//   identity:username:<username>  the customer id a username belongs to
// The username entry is only a pointer: a login trusts it only when the customer's own record
// still has that username, so a stale pointer (a renamed login) cannot log anyone in.
// Both have generations (platform ReadModel.ts: `scripts/rebuild.ts credentials` builds N+1
// beside N): generation 1 keeps the keys above, generation N > 1 is `{c:<id>}:credentials:g<N>`
// and `identity:g<N>:username:<username>`. Readers ask the pointer on every use (one GET beside
// a password check) and read both keys of that one generation.
import { Keys, ReadModel } from "@bank/platform"
import * as IdentityKeys from "./IdentityKeys.ts"
import { Effect, Option } from "effect"
import { Redis } from "effect/persistence/Redis"

export interface LoginRecord {
  readonly customerId: string
  readonly username: string
  readonly passwordHash: string
  readonly status: string
  /** When the customer master's own lock ends (epoch ms), if it set one. */
  readonly lockedUntil: number | undefined
  readonly roles: ReadonlyArray<string>
}

/** The read model's name: its generation pointer. */
export const readModel = "credentials"

export const recordKey = (customerId: string, generation = 1): string =>
  Keys.customer(customerId).key(generation <= 1 ? "credentials" : `credentials:g${generation}`)

/** SCAN MATCH pattern of every customer's record of one generation. */
export const recordPattern = (generation: number): string =>
  generation <= 1 ? "{c:*}:credentials" : `{c:*}:credentials:g${generation}`

/** The generation logins read now (the pointer, uncached). */
export const currentGeneration = ReadModel.generation(readModel)

const USERNAME = /^[a-z0-9][a-z0-9._-]{2,63}$/

/** Whether `username` (normalised) could name a login at all; anything else is unknown at once. */
export const isUsernameShaped = (username: string): boolean => USERNAME.test(username)

export const parseRoles = (text: string | undefined): ReadonlyArray<string> =>
  (text ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter((r) => r.length > 0)

/** PostgreSQL's text form of a text[] (`{customer,premium}`) as a plain list. */
export const parsePgArray = (text: string): ReadonlyArray<string> => {
  const inner = text.trim().replace(/^\{/, "").replace(/\}$/, "")
  if (inner.length === 0) return []
  return inner.split(",").map((item) => item.trim().replace(/^"(.*)"$/, "$1"))
}

/** PostgreSQL's timestamptz text (`2025-06-15 10:00:00.123456+00`) as epoch ms; NaN if unreadable. */
export const pgTimestampToMs = (text: string): number =>
  Date.parse(
    text
      .trim()
      .replace(" ", "T")
      .replace(/([+-]\d\d)$/, "$1:00")
  )

/** Whether the customer master allows the account to log in at `now`. */
export const isActive = (record: LoginRecord, now: number): boolean =>
  record.status === "active" ||
  (record.status === "locked" && record.lockedUntil !== undefined && record.lockedUntil <= now)

/** The login data of `username` (already normalised), if it names a customer. */
export const lookup = Effect.fn("Credentials.lookup")(function* (username: string) {
  if (!isUsernameShaped(username)) return Option.none<LoginRecord>()
  const redis = yield* Redis
  const generation = yield* currentGeneration
  const customerId = yield* redis.send<string | null>("GET", IdentityKeys.loginName(username, generation))
  if (customerId === null) return Option.none<LoginRecord>()
  const fields = yield* redis.send<ReadonlyArray<string>>("HGETALL", recordKey(customerId, generation))
  const record: Record<string, string> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!
  if (record.username !== username || !record.passwordHash) return Option.none<LoginRecord>()
  const lockedUntil = record.lockedUntil ? Number(record.lockedUntil) : Number.NaN
  return Option.some<LoginRecord>({
    customerId,
    username,
    passwordHash: record.passwordHash,
    status: record.status ?? "active",
    lockedUntil: Number.isNaN(lockedUntil) ? undefined : lockedUntil,
    roles: parseRoles(record.roles)
  })
})
