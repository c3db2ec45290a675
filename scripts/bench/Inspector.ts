// A V8 CPU profile of a Node process the benchmark did not start (one of `npm start`'s
// processes): SIGUSR1 opens the process's inspector, here on a random port of 127.0.0.1 because
// the stack runs with NODE_OPTIONS=--inspect-port=0 (scripts/bench/Stack.ts); the port is found
// among the process's listening sockets (/proc), and the Profiler domain of the Chrome DevTools
// Protocol samples its main thread until `stop`. The inspector stays open (on 127.0.0.1) until
// the process ends; a second profile reuses it.
import { readdirSync, readFileSync, readlinkSync } from "node:fs"
import type { Profile } from "./ProfileSummary.ts"

const socketInodes = (pid: number): Set<string> => {
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m) inodes.add(m[1]!)
    } catch {
      // closed meanwhile
    }
  }
  return inodes
}

/** The TCP ports process `pid` listens on, from /proc. */
export const listeningPorts = (pid: number): ReadonlyArray<number> => {
  const inodes = socketInodes(pid)
  return ["tcp", "tcp6"]
    .flatMap((file) => {
      try {
        return readFileSync(`/proc/${pid}/net/${file}`, "utf8").split("\n").slice(1)
      } catch {
        return []
      }
    })
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] === "0A" && inodes.has(f[9] ?? ""))
    .map((f) => Number.parseInt(f[1]!.split(":").pop()!, 16))
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The DevTools WebSocket URL of `pid`'s inspector, opening it with SIGUSR1 when it is closed. */
const debuggerUrl = async (pid: number): Promise<string> => {
  const find = async () => {
    for (const port of listeningPorts(pid)) {
      const list = (await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(1000) })
        .then((r) => r.json())
        .catch(() => undefined)) as Array<{ webSocketDebuggerUrl?: string }> | undefined
      const url = list?.[0]?.webSocketDebuggerUrl
      if (url) return url
    }
    return undefined
  }
  const open = await find()
  if (open) return open
  process.kill(pid, "SIGUSR1")
  const deadline = Date.now() + 5000
  while (Date.now() < deadline) {
    await sleep(100)
    const url = await find()
    if (url) return url
  }
  throw new Error(`process ${pid} opened no inspector after SIGUSR1 (is NODE_OPTIONS=--inspect-port=0 set?)`)
}

export interface Profiling {
  /** Ends the sampling; the profile of the main thread since `start`. */
  readonly stop: () => Promise<Profile>
}

/** Starts sampling `pid`'s main thread every `intervalMicros`. */
export const profile = async (pid: number, intervalMicros = 1000): Promise<Profiling> => {
  const socket = new WebSocket(await debuggerUrl(pid))
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true })
    socket.addEventListener("error", () => reject(new Error(`no connection to the inspector of ${pid}`)), {
      once: true
    })
  })
  let nextId = 1
  const pending = new Map<number, { resolve: (r: any) => void; reject: (e: Error) => void }>()
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } }
    const waiter = message.id === undefined ? undefined : pending.get(message.id)
    if (!waiter) return
    pending.delete(message.id!)
    if (message.error) waiter.reject(new Error(message.error.message))
    else waiter.resolve(message.result)
  })
  const send = <A>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<A>((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve, reject })
      socket.send(JSON.stringify({ id, method, params }))
    })
  await send("Profiler.enable")
  await send("Profiler.setSamplingInterval", { interval: intervalMicros })
  await send("Profiler.start")
  return {
    stop: async () => {
      try {
        const { profile } = await send<{ profile: Profile }>("Profiler.stop")
        await send("Profiler.disable")
        return profile
      } finally {
        socket.close()
      }
    }
  }
}
