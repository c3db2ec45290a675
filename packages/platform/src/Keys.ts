// Every Redis key name the project uses comes from here, so naming stays consistent and
// Redis-Cluster-safe. Keys that one script or transaction touches share a hash tag:
// everything of one customer lives under `{c:<customerId>}`, a stream and its dead-letter
// stream under `{s:<stream>}`, an edge instance's reply stream under `{r:<instance>}`.
// Stream names and ids are validated so that a stray `{` or `}` cannot move a key to
// another slot.

const SAFE = /^[A-Za-z0-9._:@-]{1,128}$/

/** `value`, if it is safe in a key name (no hash-tag braces, no spaces); throws otherwise. */
export const checked = (what: string, value: string): string => {
  if (!SAFE.test(value)) throw new Error(`invalid ${what} for a Redis key: ${JSON.stringify(value)}`)
  return value
}

export const stream = (name: string): string => `stream:{s:${checked("stream name", name)}}`
export const deadLetter = (name: string): string => `stream:{s:${checked("stream name", name)}}:dead`
/** The lease that makes `holder` the one owner of a stream partition for `group` (same slot as the stream). */
export const streamLease = (name: string, group: string): string =>
  `stream:{s:${checked("stream name", name)}}:lease:${checked("consumer group", group)}`
export const replies = (instanceId: string): string => `replies:{r:${checked("instance id", instanceId)}}`

/** Keys of one customer: documents, idempotency markers, indexes. */
export const customer = (customerId: string) => {
  const tag = `{c:${checked("customer id", customerId)}}`
  return {
    tag,
    document: (kind: string) => `${tag}:doc:${checked("document kind", kind)}`,
    /** Records which messages a consumer group already applied to this customer's documents. */
    applied: (group: string) => `${tag}:applied:${checked("consumer group", group)}`,
    key: (name: string) => `${tag}:${checked("key name", name)}`
  }
}

/** Keys not owned by one customer (reference data, global counters). */
export const global = (name: string): string => `global:${checked("key name", name)}`

/** Marker of an effectively-once action, in the hash tag of the data it guards. */
export const once = (tag: string, group: string, messageId: string): string =>
  `${tag}:once:${checked("consumer group", group)}:${checked("message id", messageId)}`
