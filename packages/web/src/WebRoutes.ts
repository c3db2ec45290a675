// The web app, served by the edge at `/` without a token (it logs in itself): the page, its
// script and styles, the web app manifest, the icon and the service worker. Each route is in
// the OpenAPI document (webOperations), like every route the edge serves.
import { type Operation, operation, type Routes } from "@bank/http"
import { Schema } from "effect"
import { type Asset, build } from "./Assets.ts"

export const webRoutes =
  (assets: ReadonlyMap<string, Asset> = build()): Routes<never> =>
  (app) => {
    for (const [path, asset] of assets) {
      // The page and the worker are checked for a new version on every visit; the rest may be
      // kept a little (the worker refreshes them anyway).
      const cache = path === "/" || path === "/sw.js" ? "no-cache" : "public, max-age=300"
      app.get(path, (c) => c.body(asset.body, 200, { "Content-Type": asset.contentType, "Cache-Control": cache }))
    }
  }

const file = (path: string, operationId: string, summary: string, contentType: string): Operation =>
  operation({
    method: "get",
    path,
    operationId,
    tag: "Web app",
    authenticated: false,
    summary,
    responses: { 200: { description: "The file.", contentType, schema: Schema.String } }
  })

export const webOperations: ReadonlyArray<Operation> = [
  file("/", "webApp", "The mobile web app (an installable PWA)", "text/html"),
  file("/app.js", "webAppScript", "The app's script", "text/javascript"),
  file("/sw.js", "webAppServiceWorker", "The app's service worker (offline app shell)", "text/javascript"),
  file("/app.css", "webAppStyles", "The app's styles", "text/css"),
  operation({
    method: "get",
    path: "/manifest.webmanifest",
    operationId: "webAppManifest",
    tag: "Web app",
    authenticated: false,
    summary: "The web app manifest",
    responses: {
      200: {
        description: "The manifest.",
        contentType: "application/manifest+json",
        schema: Schema.Struct({ name: Schema.String, start_url: Schema.String })
      }
    }
  }),
  file("/icon.svg", "webAppIcon", "The app's icon", "image/svg+xml")
]
