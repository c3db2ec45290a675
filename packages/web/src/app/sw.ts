// The service worker: keeps the app shell (page, script, styles, manifest, icon) so the app
// opens without a network, where it shows the last dashboard it saved. Network first, so a new
// version is picked up at once; the API is never cached here (tokens and money stay fresh).
/// <reference lib="webworker" />
const sw = self as unknown as ServiceWorkerGlobalScope

const CACHE = "bank-shell-v1"
const SHELL = ["/", "/app.js", "/app.css", "/manifest.webmanifest", "/icon.svg"]

sw.addEventListener("install", (event: ExtendableEvent) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => sw.skipWaiting())
  )
})

sw.addEventListener("activate", (event: ExtendableEvent) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim())
  )
})

sw.addEventListener("fetch", (event: FetchEvent) => {
  const url = new URL(event.request.url)
  if (event.request.method !== "GET" || url.origin !== location.origin || !SHELL.includes(url.pathname)) return
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        const copy = response.clone()
        void caches.open(CACHE).then((cache) => cache.put(event.request, copy))
        return response
      })
      .catch(() => caches.match(event.request).then((hit) => hit ?? Response.error()))
  )
})
