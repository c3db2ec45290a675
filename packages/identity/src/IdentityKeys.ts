// Identity's Redis key names, on the platform's key scheme (platform Keys.ts).
import { Keys } from "@bank/platform"

const checked = Keys.checked

// A token's record lives under the SHA-256 of the token (base64url), never the token
// itself; each record is its own slot, found from the token alone.
export const accessToken = (tokenHash: string): string => `identity:access:${checked("token hash", tokenHash)}`
export const refreshToken = (tokenHash: string): string => `identity:refresh:${checked("token hash", tokenHash)}`
/** Which customer a username belongs to (projected from the customer master), in a generation of the credentials (Credentials.ts). */
export const loginName = (username: string, generation = 1): string =>
  `identity:${generation <= 1 ? "" : `g${generation}:`}username:${checked("username", username)}`
/** SCAN MATCH pattern of every username pointer of one generation. */
export const loginNamePattern = (generation: number): string =>
  `identity:${generation <= 1 ? "" : `g${generation}:`}username:*`
/** A login throttle's counter or lock (`kind`); one subject's (a fingerprint) share a slot. */
export const loginThrottle = (subject: string, kind: string): string =>
  `identity:throttle:{${checked("throttle subject", subject)}}:${checked("throttle kind", kind)}`
