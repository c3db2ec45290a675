// The cryptography of identity, in one place:
// - tokens: 32 random bytes (256 bits) as base64url; Redis only ever sees their SHA-256;
// - sealing: the password crosses the request stream sealed with AES-256-GCM under a key the
//   edge and the identity actor share (IDENTITY_TRANSPORT_KEY), bound to the request's other
//   fields so a sealed password cannot be replayed under another username;
// - fingerprints: a keyed hash (HMAC-SHA-256) of a username or client address, for throttle
//   keys and audit events, which must correlate attempts without storing what was typed.
// Separate keys for sealing and fingerprints are derived from the one configured key (HKDF).
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto"

export interface Keys {
  readonly seal: Buffer
  readonly fingerprint: Buffer
}

/** A new token: 256 random bits, base64url (43 characters). */
export const newToken = (): string => randomBytes(32).toString("base64url")

/** What Redis stores of a token: its SHA-256, base64url. */
export const hashToken = (token: string): string => createHash("sha256").update(token).digest("base64url")

/** A token as clients send it: 43 base64url characters (anything else is not ours). */
export const isTokenShaped = (token: string): boolean => /^[A-Za-z0-9_-]{43}$/.test(token)

export const randomKey = (): Buffer => randomBytes(32)

/**
 * The key used when IDENTITY_TRANSPORT_KEY is unset: published here, so it protects nothing; it
 * only keeps development set-ups working. Production sets its own (the process warns).
 */
export const developmentKey: Buffer = createHash("sha256").update("bank-identity-development-transport-key").digest()

/** Reads a configured key: 32 bytes in base64 or base64url. */
export const parseKey = (text: string): Buffer | undefined => {
  const key = Buffer.from(text.trim(), "base64")
  return key.length === 32 ? key : undefined
}

export const deriveKeys = (key: Buffer): Keys => ({
  seal: Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), "bank identity seal v1", 32)),
  fingerprint: Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), "bank identity fingerprint v1", 32))
})

/** `v1.<iv>.<ciphertext>.<tag>`, base64url parts; `context` is authenticated, not stored. */
export const seal = (keys: Keys, plaintext: string, context: string): string => {
  const iv = randomBytes(12)
  const cipher = createCipheriv("aes-256-gcm", keys.seal, iv)
  cipher.setAAD(Buffer.from(context, "utf8"))
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
  return ["v1", iv.toString("base64url"), body.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(
    "."
  )
}

/** The plaintext, or undefined when the sealed text was altered, sealed under another key or context. */
export const open = (keys: Keys, sealed: string, context: string): string | undefined => {
  const [version, iv, body, tag] = sealed.split(".")
  if (version !== "v1" || iv === undefined || body === undefined || tag === undefined) return undefined
  try {
    const decipher = createDecipheriv("aes-256-gcm", keys.seal, Buffer.from(iv, "base64url"))
    decipher.setAAD(Buffer.from(context, "utf8"))
    decipher.setAuthTag(Buffer.from(tag, "base64url"))
    return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8")
  } catch {
    return undefined
  }
}

/** Usernames compare case-insensitively and in one Unicode form (the customer master stores lowercase). */
export const normaliseUsername = (username: string): string => username.normalize("NFC").trim().toLowerCase()

/** Keyed fingerprint of `kind:value`, base64url (43 characters, safe in Redis keys). */
export const fingerprint = (keys: Keys, kind: "username" | "address", value: string): string =>
  createHmac("sha256", keys.fingerprint).update(`${kind}:${value}`).digest("base64url")

/** What a login's sealed password is bound to: its username and the access token it asks for. */
export const loginContext = (username: string, accessTokenHash: string): string =>
  `login\n${username}\n${accessTokenHash}`
