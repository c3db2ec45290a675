// UUID v7 (RFC 9562): random, and ordered by creation time, so message ids sort like the
// stream and make compact index keys. Every published message takes one id and one trace span
// id: their random bits come from a pool filled by the CSPRNG a few hundred ids at a time (as
// Node's own crypto.randomUUID does), since one randomBytes call per id cost more than the
// rest of publishing. Ids are not secrets; tokens and keys still draw their own bytes.
import { randomFillSync } from "node:crypto"

const pool = Buffer.allocUnsafe(4096)
let used = pool.length

/** `n` fresh random bytes (n ≤ 256), as a view into the pool: use them before the next call. */
const take = (n: number): Buffer => {
  if (used + n > pool.length) {
    randomFillSync(pool)
    used = 0
  }
  const bytes = pool.subarray(used, used + n)
  used += n
  return bytes
}

/** `bytes` random bytes as lowercase hex. */
export const randomHex = (bytes: number): string => take(bytes).toString("hex")

export const uuidv7 = (): string => {
  const random = take(10)
  const time = Date.now().toString(16).padStart(12, "0")
  const version = ((random[0]! & 0x0f) | 0x70).toString(16) + random.toString("hex", 1, 2)
  const variant = ((random[2]! & 0x3f) | 0x80).toString(16) + random.toString("hex", 3, 4)
  return `${time.slice(0, 8)}-${time.slice(8)}-${version}-${variant}-${random.toString("hex", 4, 10)}`
}
