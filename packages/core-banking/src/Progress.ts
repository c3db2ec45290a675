// Progress of a long run on stderr: done/total, rate and time left. On a terminal the line is
// rewritten in place a few times a second; in a log (CI, a pipe) a new line every few seconds.

export interface Meter {
  /** `done` units of work so far; `detail` goes at the end of the line. */
  update(done: number, detail?: string): void
  /** Prints the final line. */
  finish(detail?: string): void
}

const group = (n: number) => Math.round(n).toLocaleString("en-US")

export const duration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return "?"
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
}

export const silent: Meter = { update: () => {}, finish: () => {} }

export const meter = (
  label: string,
  total: number,
  unit: string,
  stream: NodeJS.WriteStream = process.stderr
): Meter => {
  const started = performance.now()
  const tty = stream.isTTY === true
  const every = tty ? 250 : 5000
  let last = 0
  let done = 0
  const line = (detail: string | undefined) => {
    const seconds = (performance.now() - started) / 1000
    const rate = seconds > 0 ? done / seconds : 0
    const left = rate > 0 ? (total - done) / rate : Infinity
    const percent = total > 0 ? ((100 * done) / total).toFixed(1) : "100.0"
    return (
      `${label}: ${group(done)}/${group(total)} ${unit} (${percent}%) · ${group(rate)} ${unit}/s · ` +
      `${done >= total ? `took ${duration(seconds)}` : `ETA ${duration(left)}`}${detail ? ` · ${detail}` : ""}`
    )
  }
  const print = (text: string, final: boolean) =>
    stream.write(tty ? `\r\x1b[2K${text}${final ? "\n" : ""}` : `${text}\n`)
  return {
    update: (n, detail) => {
      done = n
      const now = performance.now()
      if (now - last < every) return
      last = now
      print(line(detail), false)
    },
    finish: (detail) => print(line(detail), true)
  }
}
