// The live dashboard feed (GET /v1/dashboard/events) read with fetch, since EventSource cannot
// send the Authorization header: parses Server-Sent Events, resumes with Last-Event-ID after a
// dropped connection, and tells the app about documents, the end of the session (`event: end`,
// or a 401 on reconnecting) and going offline or online.
import { pathOf } from "@bank/client"

export interface EventsOptions {
  readonly token: () => string | undefined
  readonly onDocument: (text: string) => void
  readonly onEnd: (reason: string) => void
  readonly onUnauthorized: () => void
  readonly onOffline: (offline: boolean) => void
}

export const openEvents = (options: EventsOptions): (() => void) => {
  const controller = new AbortController()
  let lastId: string | undefined
  let stopped = false
  const run = async (): Promise<void> => {
    while (!stopped) {
      try {
        const headers: Record<string, string> = {
          Authorization: `Bearer ${options.token()}`,
          Accept: "text/event-stream"
        }
        if (lastId) headers["Last-Event-ID"] = lastId
        const response = await fetch(pathOf("dashboardEvents"), { headers, signal: controller.signal })
        if (response.status === 401) return options.onUnauthorized()
        if (!response.ok || !response.body) throw new Error(`events: ${response.status}`)
        options.onOffline(false)
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
        let buffer = ""
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          buffer += value
          let cut: number
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut)
            buffer = buffer.slice(cut + 2)
            let event = "message"
            let id: string | undefined
            const data: Array<string> = []
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) event = line.slice(6).trim()
              else if (line.startsWith("id:")) id = line.slice(3).trim()
              else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""))
            }
            if (id) lastId = id
            if (event === "dashboard") options.onDocument(data.join("\n"))
            if (event === "end") {
              stopped = true
              return options.onEnd((JSON.parse(data.join("\n") || "{}") as { reason?: string }).reason ?? "ended")
            }
          }
        }
      } catch {
        if (stopped || controller.signal.aborted) return
        options.onOffline(true)
      }
      if (!stopped) await new Promise((r) => setTimeout(r, 2000))
    }
  }
  void run()
  return () => {
    stopped = true
    controller.abort()
  }
}
