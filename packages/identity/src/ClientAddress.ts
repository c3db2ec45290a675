// The client's address, for per-address rate limits and the audit trail. Behind N trusted
// proxies (IDENTITY_TRUSTED_PROXY_HOPS) it is the N-th entry of X-Forwarded-For counted from
// the right: the entries further left were written by the client and prove nothing. Without
// trusted proxies it is the socket's peer.
import { getConnInfo } from "@hono/node-server/conninfo"
import type { Context } from "hono"

/** Pure: the address given the socket peer, the X-Forwarded-For header and the trusted hops. */
export const resolve = (peer: string | undefined, forwardedFor: string | undefined, trustedHops: number): string => {
  if (trustedHops > 0 && forwardedFor) {
    const hops = forwardedFor
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
    const candidate = hops[hops.length - trustedHops]
    if (candidate && /^[0-9A-Fa-f.:]{2,45}$/.test(candidate)) return candidate
  }
  return peer ?? "unknown"
}

const peerOf = (c: Context): string | undefined => {
  try {
    return getConnInfo(c).remote.address
  } catch {
    return undefined // not on Node's HTTP server (app.request in a unit test)
  }
}

export const of = (c: Context, trustedHops: number): string =>
  resolve(peerOf(c), c.req.header("X-Forwarded-For"), trustedHops)
