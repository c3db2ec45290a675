// The web app's files as the edge serves them, built once in memory at start: the app and the
// service worker bundled and minified by esbuild (TypeScript with the typed client inlined),
// the page, styles, manifest and icon as they are. `sizes` says what a phone downloads.
import { buildSync } from "esbuild"
import { readFileSync } from "node:fs"
import { gzipSync } from "node:zlib"

export interface Asset {
  readonly body: string
  readonly contentType: string
}

const here = (path: string) => new URL(path, import.meta.url)

const bundle = (entry: string): string =>
  buildSync({
    entryPoints: [here(entry).pathname],
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    write: false,
    legalComments: "none"
  }).outputFiles[0]!.text

const file = (name: string) => readFileSync(here(`./public/${name}`), "utf8")

/** Path → file. */
export const build = (): ReadonlyMap<string, Asset> =>
  new Map([
    ["/", { body: file("index.html"), contentType: "text/html; charset=utf-8" }],
    ["/app.js", { body: bundle("./app/app.ts"), contentType: "text/javascript; charset=utf-8" }],
    ["/sw.js", { body: bundle("./app/sw.ts"), contentType: "text/javascript; charset=utf-8" }],
    ["/app.css", { body: file("app.css"), contentType: "text/css; charset=utf-8" }],
    ["/manifest.webmanifest", { body: file("manifest.webmanifest"), contentType: "application/manifest+json" }],
    ["/icon.svg", { body: file("icon.svg"), contentType: "image/svg+xml" }]
  ])

/** Bytes a first visit downloads (page, script, styles), raw and gzipped. */
export const sizes = (assets: ReadonlyMap<string, Asset>) => {
  const first = ["/", "/app.js", "/app.css"].map((p) => Buffer.from(assets.get(p)!.body))
  return {
    raw: first.reduce((n, b) => n + b.length, 0),
    gzip: first.reduce((n, b) => n + gzipSync(b).length, 0),
    script: Buffer.byteLength(assets.get("/app.js")!.body)
  }
}
