// @bank/web owns the mobile web app: an installable PWA (manifest, service worker, the last
// dashboard readable offline) written against the typed client, with no framework. The edge
// serves it at `/` (webRoutes) and documents its routes (webOperations).
export * as Assets from "./Assets.ts"
export { webOperations, webRoutes } from "./WebRoutes.ts"
