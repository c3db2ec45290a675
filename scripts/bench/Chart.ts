// The report's chart, as hand-written SVG (no plotting dependency; GitHub and browsers show it
// directly). One panel per kind of figure, each with its own scale: HTTP requests per second,
// logins per second, stream entries per second, latency in milliseconds. Each bar carries its
// value and, when it has one, its ratio to the baseline.
import { fmt, ratioOf, type Figure } from "./Figures.ts"

const panels: ReadonlyArray<{ readonly key: NonNullable<Figure["chart"]>; readonly title: string }> = [
  { key: "http", title: "HTTP requests per second (higher is better)" },
  { key: "login", title: "Logins and bare KDF per second (higher is better)" },
  { key: "stream", title: "Stream entries applied per second (higher is better)" },
  { key: "latency", title: "Latency, milliseconds, log scale (lower is better)" }
]

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

export const render = (figures: ReadonlyArray<Figure>, subtitle: string): string => {
  const width = 1000
  const labelWidth = 440
  const barArea = width - labelWidth - 120
  const rowHeight = 24
  const parts: Array<string> = []
  let y = 76
  for (const panel of panels) {
    const rows = figures.filter((f) => f.chart === panel.key && f.value !== undefined)
    if (rows.length === 0) continue
    // Latencies span three orders of magnitude (a no-op's 0.1 ms to a saturated second), so
    // that panel is logarithmic from 0.1 ms; the others are linear from zero.
    const log = panel.key === "latency"
    const scale = (v: number) => (log ? Math.log10(Math.max(v, 0.1) / 0.1) : v)
    const max = Math.max(...rows.map((f) => scale(f.value!)))
    parts.push(`<text x="16" y="${y}" class="panel">${escape(panel.title)}</text>`)
    y += 12
    for (const f of rows) {
      const w = max > 0 ? Math.max(1, (scale(f.value!) / max) * barArea) : 1
      const ratio = ratioOf(f)
      const note = `${fmt(f.value!)} ${f.unit}${ratio !== undefined ? ` (${fmt(ratio)}× ${f.baseline!.label})` : ""}`
      const color = f.target ? (f.target.met ? "#2e7d32" : "#c62828") : "#1565c0"
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 16}" class="label" text-anchor="end">${escape(f.label)}</text>`,
        `<rect x="${labelWidth}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 8}" fill="${color}" rx="2"/>`,
        `<text x="${labelWidth + w + 6}" y="${y + 16}" class="value">${escape(note)}</text>`
      )
      y += rowHeight
    }
    y += 22
  }
  const height = y + 20
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width + 260}" height="${height}" viewBox="0 0 ${width + 260} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    "<style>.title{font-size:18px;font-weight:bold}.sub{font-size:12px;fill:#555}.panel{font-size:14px;font-weight:bold}.label{font-size:12px}.value{font-size:11px;fill:#333}</style>",
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="16" y="24" class="title">Benchmark: real-time data layer for mobile banking</text>`,
    `<text x="16" y="42" class="sub">${escape(subtitle)} · green: target met, red: target missed, blue: no target</text>`,
    ...parts,
    "</svg>",
    ""
  ].join("\n")
}
