// Redis Cluster hash slots: which slot a key lives in, which key of a command decides where the
// command goes, and the check that a script or transaction touches one slot only. A script
// handed keys of two slots works on a single server and fails with CROSSSLOT on a cluster, so
// we refuse it on both (unless REDIS_CHECK_SLOTS=false): a bug shows up in development, not on
// the first day in production.
export const SLOTS = 16384

// CRC16-CCITT (XMODEM), the checksum Redis Cluster takes modulo 16384 (cluster spec, "Key
// distribution model").
const table = new Uint16Array(256).map((_, n) => {
  let crc = n << 8
  for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1
  return crc & 0xffff
})
const crc16 = (bytes: Uint8Array, start: number, end: number): number => {
  let crc = 0
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ table[((crc >> 8) ^ bytes[i]!) & 0xff]!) & 0xffff
  return crc
}
const encoder = new TextEncoder()

/** The hash slot of `key`: of the text between the first `{` and the next `}` when not empty. */
export const slotOf = (key: string): number => {
  const bytes = encoder.encode(key)
  const open = bytes.indexOf(0x7b)
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1)
    if (close > open + 1) return crc16(bytes, open + 1, close) % SLOTS
  }
  return crc16(bytes, 0, bytes.length) % SLOTS
}

export class CrossSlotError extends Error {
  constructor(
    readonly what: string,
    readonly keys: ReadonlyArray<string>
  ) {
    super(
      `${what} touches keys of more than one hash slot (it would fail with CROSSSLOT on Redis Cluster): ${keys.map((k) => `${k} (slot ${slotOf(k)})`).join(", ")}`
    )
    this.name = "CrossSlotError"
  }
}

// The text of `key` its slot is the checksum of (as slotOf reads it; `{` and `}` are single bytes
// in UTF-8, so the first of each in the string is the first in the bytes).
const hashedText = (key: string): string => {
  const open = key.indexOf("{")
  if (open >= 0) {
    const close = key.indexOf("}", open + 1)
    if (close > open + 1) return key.slice(open + 1, close)
  }
  return key
}

/**
 * Whether `keys` all share one slot. Keys with the same hash tag (one customer's keys, a stream
 * and its dead letters) are answered by comparing the tags, without a checksum: this runs on
 * every script call.
 */
export const oneSlot = (keys: ReadonlyArray<string>): boolean => {
  if (keys.length < 2) return true
  const text = hashedText(keys[0]!)
  let i = 1
  while (i < keys.length && hashedText(keys[i]!) === text) i++
  if (i === keys.length) return true
  const first = slotOf(keys[0]!)
  for (; i < keys.length; i++) if (slotOf(keys[i]!) !== first) return false
  return true
}

/** Throws CrossSlotError when `keys` do not all share one slot. */
export const assertOneSlot = (what: string, keys: ReadonlyArray<string>): void => {
  if (!oneSlot(keys)) throw new CrossSlotError(what, keys)
}

// Commands without a key (or whose key is not their first argument). Anything not listed here
// routes by its first argument, which is right for every data command the project sends.
const keyless = new Set([
  "PING",
  "INFO",
  "CLUSTER",
  "SCRIPT",
  "WAIT",
  "SCAN",
  "DBSIZE",
  "TIME",
  "PUBLISH",
  "COMMAND",
  "CONFIG",
  "CLIENT",
  "FLUSHALL",
  "FLUSHDB",
  "FUNCTION",
  "MULTI",
  "EXEC",
  "DISCARD",
  "HELLO",
  "READONLY",
  "READWRITE",
  "ECHO",
  "LASTSAVE",
  "BGREWRITEAOF",
  "BGSAVE",
  "SAVE",
  "MEMORY",
  "LATENCY",
  "SLOWLOG",
  "ROLE",
  "DEBUG",
  "RANDOMKEY"
])

/**
 * The key that decides which node a command goes to, or undefined for a command with no key
 * (sent to any node). `args` excludes the command name.
 */
export const routingKey = (command: string, args: ReadonlyArray<string>): string | undefined => {
  const name = command.toUpperCase()
  switch (name) {
    case "EVALSHA":
    case "EVAL":
    case "EVALSHA_RO":
    case "EVAL_RO":
    case "FCALL":
    case "FCALL_RO":
      return Number(args[1]) > 0 ? args[2] : undefined
    case "XREAD":
    case "XREADGROUP": {
      const at = args.findIndex((a) => a.toUpperCase() === "STREAMS")
      return at >= 0 ? args[at + 1] : undefined
    }
    case "XGROUP":
    case "XINFO":
    case "OBJECT":
      return args[1]
    case "MEMORY":
      return args[0]?.toUpperCase() === "USAGE" ? args[1] : undefined
    default:
      return keyless.has(name) ? undefined : args[0]
  }
}

/** The keys a script call touches: the first `numberOfKeys` of its arguments (as sent), as strings. */
export const scriptKeys = (numberOfKeys: number, params: ReadonlyArray<unknown>): Array<string> =>
  params.slice(0, numberOfKeys).map(String)
