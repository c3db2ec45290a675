// Helpers of the end-to-end tests (test/*.e2e.test.ts): a system process as its own child (so
// a test can SIGKILL it), and a Server-Sent Events client that reads frames as they come.

export { type ChildHandle, startProcess } from "@bank/test-kit"

export interface SseFrame {
  readonly event?: string
  readonly id?: string
  readonly data?: string
  /** Set for a comment line (a heartbeat). */
  readonly comment?: string
}

export interface EventStream {
  readonly status: number
  /** The next frame matching `accept` (earlier ones are skipped), or a timeout error. */
  readonly next: (accept: (frame: SseFrame) => boolean, timeoutMs: number) => Promise<SseFrame>
  readonly close: () => void
}

const parseFrame = (text: string): SseFrame => {
  const frame: { event?: string; id?: string; data?: string; comment?: string } = {}
  for (const line of text.split("\n")) {
    if (line.startsWith(":")) frame.comment = line.slice(1).trim()
    const match = /^(event|id|data): ?(.*)$/.exec(line)
    if (!match) continue
    const [, field, value] = match as unknown as [string, "event" | "id" | "data", string]
    frame[field] = field === "data" && frame.data !== undefined ? `${frame.data}\n${value}` : value
  }
  return frame
}

/** Opens GET /v1/dashboard/events (or `path`) with the token and an optional Last-Event-ID. */
export const openEvents = async (
  base: string,
  token: string,
  lastEventId?: string,
  path = "/v1/dashboard/events"
): Promise<EventStream> => {
  const controller = new AbortController()
  const response = await fetch(`${base}${path}`, {
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: "text/event-stream",
      ...(lastEventId ? { "Last-Event-ID": lastEventId } : {})
    },
    signal: controller.signal
  })
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ""
  const frames: Array<SseFrame> = []
  const read = async (deadline: number): Promise<void> => {
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), Math.max(0, deadline - Date.now())))
    const chunk = await Promise.race([reader.read(), timeout])
    if (chunk === "timeout") throw new Error("timed out waiting for a server-sent event")
    if (chunk.done) throw new Error("the event stream ended")
    buffer += decoder.decode(chunk.value, { stream: true })
    let end: number
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      frames.push(parseFrame(buffer.slice(0, end)))
      buffer = buffer.slice(end + 2)
    }
  }
  return {
    status: response.status,
    next: async (accept, timeoutMs) => {
      const deadline = Date.now() + timeoutMs
      while (true) {
        const frame = frames.shift()
        if (frame !== undefined) {
          if (accept(frame)) return frame
          continue
        }
        await read(deadline)
      }
    },
    close: () => controller.abort()
  }
}
