// W3C trace context (https://www.w3.org/TR/trace-context/) carried in every envelope, so a
// login can be followed from the edge through the identity actor and back.
import { randomHex } from "./Ids.ts"

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

export interface TraceContext {
  readonly traceparent: string
  readonly tracestate?: string | undefined
}

// From the ids' pool: one trace and span id per published message.
const hex = randomHex

export const isValidTraceparent = (value: string): boolean => {
  const m = TRACEPARENT.exec(value)
  return m !== null && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!)
}

/** A new trace, for a message with no parent. */
export const root = (): TraceContext => ({ traceparent: `00-${hex(16)}-${hex(8)}-01` })

/** A child span of `parent`'s trace; a malformed parent starts a new trace instead. */
export const child = (parent: TraceContext | undefined): TraceContext => {
  const m = parent ? TRACEPARENT.exec(parent.traceparent) : null
  if (!parent || !m || !isValidTraceparent(parent.traceparent)) return root()
  return { traceparent: `00-${m[1]}-${hex(8)}-${m[3]}`, tracestate: parent.tracestate }
}

export const traceId = (context: TraceContext): string | undefined => TRACEPARENT.exec(context.traceparent)?.[1]
