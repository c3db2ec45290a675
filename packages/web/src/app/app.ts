// The mobile web app: log in, the dashboard live over Server-Sent Events, an account's history
// with infinite scroll, a transfer between own accounts (idempotency key, "booked → shown" by
// the Consistency-Token), devices with "log out everywhere", profile and preferences. No
// framework: the typed client (@bank/client) and the DOM. The last dashboard stays readable
// offline (localStorage, and the service worker keeps the app shell).
import {
  type Answer,
  createClient,
  type Dashboard,
  type DashboardAccount,
  type Money,
  type OperationId
} from "@bank/client"
import { openEvents } from "./events.ts"

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const main = $("main")
const store = {
  get: (k: string) => localStorage.getItem(`bank.${k}`),
  set: (k: string, v: string | null) =>
    v === null ? localStorage.removeItem(`bank.${k}`) : localStorage.setItem(`bank.${k}`, v)
}

let accessToken = store.get("access") ?? undefined
let dashboard: Dashboard | undefined = JSON.parse(store.get("dashboard") ?? "null") ?? undefined
let closeEvents: (() => void) | undefined
/** Why the customer was signed out, shown on the log-in screen. */
let signedOutWhy = ""
const api = createClient({ token: () => accessToken })

const esc = (v: unknown) => String(v ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const money = (m: Money | null | undefined) => {
  if (!m) return ""
  const digits = m.amount.split(".")[1]?.length ?? 0
  const text = new Intl.NumberFormat(undefined, {
    style: "currency",
    currency: m.currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits
  }).format(Number(m.amount))
  return `<span class="amount${m.amount.startsWith("-") ? " neg" : ""}">${esc(text)}</span>`
}
const say = (text: string) => {
  $("status").textContent = text
  if (text) setTimeout(() => $("status").textContent === text && ($("status").textContent = ""), 4000)
}
const show = (html: string, title: string) => {
  main.innerHTML = html
  document.title = `${title} · Bank`
  const route = location.hash.split("/")[1] ?? ""
  for (const a of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
    if (a.dataset.nav === route) a.setAttribute("aria-current", "page")
    else a.removeAttribute("aria-current")
  }
  main.focus()
}

/** Calls the API; a refused token is refreshed once, then the customer is signed out. */
async function call<K extends OperationId>(id: K, input: Parameters<typeof api<K>>[1]): Promise<Answer<K>> {
  let answer = await api(id, input)
  if (answer.status === 401 && id !== "login" && store.get("refresh")) {
    const refreshed = await api("refresh", { body: { refreshToken: store.get("refresh")! } })
    if (refreshed.status === 200) {
      signedIn(refreshed.body.accessToken, refreshed.body.refreshToken)
      answer = await api(id, input)
    }
  }
  if (answer.status === 401 && id !== "login") signOut("You were signed out.")
  return answer
}

function signedIn(access: string, refresh: string) {
  accessToken = access
  store.set("access", access)
  store.set("refresh", refresh)
}

function signOut(why: string) {
  closeEvents?.()
  closeEvents = undefined
  accessToken = undefined
  dashboard = undefined
  for (const k of ["access", "refresh", "dashboard"]) store.set(k, null)
  $("nav").hidden = true
  $("net").textContent = ""
  signedOutWhy = why
  say(why)
  if (route() === "login") void render()
  else location.hash = "#/login"
}

// ── Live dashboard ─────────────────────────────────────────────────────────────────────────
function startEvents() {
  closeEvents?.()
  closeEvents = openEvents({
    token: () => accessToken,
    onDocument: (text) => {
      dashboard = JSON.parse(text) as Dashboard
      store.set("dashboard", text)
      if (route() === "dashboard") renderDashboard()
      renderNet()
    },
    onEnd: (reason) => signOut(reason === "logged-out" ? "You logged out." : "You were signed out on every device."),
    onUnauthorized: () => signOut("You were signed out."),
    onOffline: (offline) => {
      $("offline").hidden = !offline
      $("offline").textContent = offline
        ? `Offline: showing your accounts as of ${dashboard?.asOf ? new Date(dashboard.asOf).toLocaleString() : "the last visit"}.`
        : ""
    }
  })
}

const lines: Record<string, string> = {
  deposits: "Current and savings",
  cards: "Cards",
  lending: "Loans and mortgages",
  investments: "Investments"
}
const mainAmount = (a: DashboardAccount) =>
  a.system === "cards"
    ? a.balance
    : a.system === "lending"
      ? a.outstandingPrincipal
      : a.system === "investments"
        ? a.marketValue
        : a.balance
const label = (a: DashboardAccount) => esc(a.name ?? String(a.type ?? a.system).replace(/_/g, " "))

function renderNet() {
  const eur = dashboard?.totals[0]
  $("net").textContent = eur
    ? `Net ${new Intl.NumberFormat(undefined, { style: "currency", currency: eur.net.currency }).format(Number(eur.net.amount))}`
    : ""
}

function renderDashboard() {
  if (!dashboard) return show(`<h2>Your accounts</h2><p>Loading…</p>`, "Overview")
  const totals = dashboard.totals
    .map(
      (t) =>
        `<div class="card"><small class="muted">Net, ${esc(t.currency)}</small><span class="big" data-total="${esc(t.currency)}">${money(t.net)}</span>` +
        `<small class="muted">Assets ${money(t.assets)} · Owed ${money(t.liabilities)}</small></div>`
    )
    .join("")
  const groups = Object.keys(lines)
    .map((system) => {
      const accounts = dashboard!.accounts.filter((a) => a.system === system)
      if (accounts.length === 0) return ""
      return `<h2>${lines[system]}</h2><div class="card">${accounts
        .map(
          (a) =>
            `<a class="row" href="#/account/${encodeURIComponent(a.id)}"><span>${label(a)}<small>${esc(a.status)}${a.system === "deposits" && "iban" in a ? ` · ${esc((a as { iban?: string }).iban)}` : ""}</small></span>` +
            `<span data-account="${esc(a.id)}">${money(mainAmount(a))}</span></a>`
        )
        .join("")}</div>`
    })
    .join("")
  const latest = dashboard.latestTransactions
    .slice(0, 8)
    .map(
      (t) =>
        `<div class="row"><span>${esc(t.description)}<small>${esc(t.bookingDate)} · ${esc(t.category)}</small></span>${money(t.amount)}</div>`
    )
    .join("")
  const scroll = scrollY
  show(
    `<h2>Totals</h2><div class="totals">${totals || "<p>No accounts yet.</p>"}</div>${groups}` +
      `<h2>Latest transactions</h2><div class="card">${latest || "<p class=muted>None yet.</p>"}</div>` +
      `<p class="muted">As of ${dashboard.asOf ? esc(new Date(dashboard.asOf).toLocaleString()) : "—"}</p>`,
    "Overview"
  )
  scrollTo(0, scroll)
}

// ── An account's history, with infinite scroll ────────────────────────────────────────────
async function renderAccount(id: string) {
  const account = dashboard?.accounts.find((a) => a.id === id)
  show(
    `<h2>${account ? label(account) : "Account"}</h2><p>${account ? money(mainAmount(account)) : ""}</p><div class="card" id="history" aria-live="polite"></div>` +
      `<p id="more" class="muted">Loading…</p>`,
    "History"
  )
  let cursor: string | null | undefined
  const history = $("history")
  const more = $("more")
  const next = async () => {
    if (cursor === null) return
    const page = await call("listTransactions", {
      path: { id },
      query: cursor ? { cursor, limit: "20" } : { limit: "20" }
    })
    if (page.status !== 200) return void (more.textContent = "Could not load the history.")
    history.insertAdjacentHTML(
      "beforeend",
      page.body.transactions
        .map(
          (t) =>
            `<div class="row"><span>${esc(t.description)}<small>${esc(t.bookingDate)} · ${esc(t.counterparty ?? t.category)}</small></span>${money(t.amount)}</div>`
        )
        .join("")
    )
    cursor = page.body.nextCursor
    more.textContent = cursor === null ? "That is everything." : "Loading more…"
  }
  await next()
  const observer = new IntersectionObserver(async (entries) => {
    if (entries.some((e) => e.isIntersecting) && cursor !== null) await next()
    if (cursor === null || !document.contains(more)) observer.disconnect()
  })
  observer.observe(more)
}

// ── A transfer between own accounts: sent → booked → shown ─────────────────────────────────
function renderTransfer() {
  const own = (dashboard?.accounts ?? []).filter((a) => a.system === "deposits" && a.status === "open")
  const options = own
    .map((a) => `<option value="${esc(a.id)}">${label(a)} (${esc(a.balance?.amount)} ${esc(a.currency)})</option>`)
    .join("")
  show(
    `<h2>Transfer between your accounts</h2><form id="transfer" novalidate>` +
      `<label for="from">From</label><select id="from" required>${options}</select>` +
      `<label for="to">To</label><select id="to" required>${options}</select>` +
      `<label for="amount">Amount</label><input id="amount" inputmode="decimal" autocomplete="off" required pattern="[0-9]+([.][0-9]{1,3})?" placeholder="0.00">` +
      `<label for="reference">Reference</label><input id="reference" maxlength="140" autocomplete="off">` +
      `<button id="send">Send</button></form><ol class="steps" id="steps" aria-label="Progress" aria-live="polite"></ol><p id="outcome" role="alert"></p>`,
    "Transfer"
  )
  const to = $<HTMLSelectElement>("to")
  if (own.length > 1) to.selectedIndex = 1
  // One key per transfer the customer means: a resend after a network error reuses it.
  let key = crypto.randomUUID()
  $("transfer").addEventListener("submit", async (event) => {
    event.preventDefault()
    const from = own.find((a) => a.id === $<HTMLSelectElement>("from").value)!
    const amount = $<HTMLInputElement>("amount").value.trim().replace(",", ".")
    const outcome = $("outcome")
    if (!/^[0-9]+([.][0-9]{1,3})?$/.test(amount) || Number(amount) <= 0)
      return void (outcome.textContent = "Enter an amount greater than zero, such as 12.50.")
    const steps = (done: number, rejected?: string) =>
      ($("steps").innerHTML =
        ["Sent", "Booked", "Shown"]
          .map((s, i) => `<li class="${i < done ? "done" : ""}">${s}${i < done ? " ✓" : ""}</li>`)
          .join("") + (rejected ? `<li class="err">Rejected</li>` : ""))
    $<HTMLButtonElement>("send").disabled = true
    outcome.textContent = ""
    try {
      const sent = await call("createTransfer", {
        headers: { "Idempotency-Key": key },
        body: {
          fromAccountId: from.id,
          toAccountId: to.value,
          amount: { amount, currency: from.currency ?? "EUR" },
          reference: $<HTMLInputElement>("reference").value
        }
      })
      if (sent.status !== 202)
        return void (outcome.textContent =
          "detail" in (sent.body as object) ? (sent.body as { detail: string }).detail : "The transfer was refused.")
      steps(1)
      // The dashboard answers once it shows the transfer: no polling.
      const shown = await call("getDashboard", {
        headers: { "Consistency-Token": sent.headers.get("Consistency-Token")! }
      })
      const status = await call("getTransfer", { path: { id: sent.body.transferId } })
      if (status.status === 200 && status.body.status === "rejected") {
        steps(1, "x")
        outcome.textContent = status.body.detail ?? "Rejected."
        return
      }
      steps(2)
      if (shown.status === 200) {
        dashboard = shown.body
        store.set("dashboard", JSON.stringify(shown.body))
        renderNet()
        steps(3)
        outcome.textContent = `Booked and shown: ${amount} ${from.currency} to ${label(own.find((a) => a.id === to.value)!)}.`
        key = crypto.randomUUID()
      } else outcome.textContent = "Booked; your overview will show it in a moment."
    } catch {
      outcome.textContent = "No connection. Send again: it will not be booked twice."
    } finally {
      $<HTMLButtonElement>("send").disabled = false
    }
  })
}

// ── Profile and preferences ───────────────────────────────────────────────────────────────
async function renderProfile() {
  const [profile, session] = await Promise.all([call("getProfile", {}), call("getSession", {})])
  const p = profile.status === 200 ? profile.body : undefined
  const theme = session.status === 200 ? session.body.preferences.theme : "system"
  show(
    `<h2>${esc(p?.name?.given)} ${esc(p?.name?.family)}</h2>` +
      `<div class="card"><div class="row"><span>Email</span><span>${esc(p?.email)}</span></div><div class="row"><span>Address</span><span>${esc(p?.address?.line1)}, ${esc(p?.address?.city)}</span></div></div>` +
      `<form id="profile"><label for="phone">Phone</label><input id="phone" type="tel" autocomplete="tel" value="${esc(p?.phone)}" placeholder="+32470123456">` +
      `<label for="language">Language</label><select id="language">${["en", "fr", "nl", "de"].map((l) => `<option ${p?.preferences?.language === l ? "selected" : ""}>${l}</option>`).join("")}</select>` +
      `<button>Save</button></form>` +
      `<form id="prefs"><label for="theme">Theme on this device</label><select id="theme">${["system", "light", "dark"].map((t) => `<option ${t === theme ? "selected" : ""}>${t}</option>`).join("")}</select><button>Apply</button></form>` +
      `<p id="saved" role="status"></p>`,
    "Profile"
  )
  $("profile").addEventListener("submit", async (e) => {
    e.preventDefault()
    const phone = $<HTMLInputElement>("phone").value.trim()
    const sent = await call("updateProfile", {
      body: { ...(phone ? { phone } : {}), preferences: { language: $<HTMLSelectElement>("language").value } }
    })
    if (sent.status !== 202)
      return void ($("saved").textContent = (sent.body as { detail?: string }).detail ?? "Not saved.")
    $("saved").textContent = "Saving…"
    const read = await call("getProfile", { headers: { "Consistency-Token": sent.headers.get("Consistency-Token")! } })
    $("saved").textContent =
      read.status === 200
        ? read.body.lastUpdate?.status === "rejected"
          ? "Not saved: " + read.body.lastUpdate.reason
          : "Saved."
        : "Saved; it shows in a moment."
  })
  $("prefs").addEventListener("submit", async (e) => {
    e.preventDefault()
    const chosen = $<HTMLSelectElement>("theme").value as "system" | "light" | "dark"
    const sent = await call("updatePreferences", { body: { theme: chosen } })
    if (sent.status === 200) applyTheme(chosen)
    $("saved").textContent = sent.status === 200 ? "Theme applied." : "Not saved."
  })
}

const applyTheme = (theme: string) => {
  store.set("theme", theme)
  document.documentElement.dataset.theme =
    theme === "system" ? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light") : theme
}

// ── Devices: sessions and "log out everywhere" ──────────────────────────────────────────────
async function renderSessions() {
  const list = await call("listSessions", {})
  const sessions = list.status === 200 ? list.body.sessions : []
  show(
    `<h2>Signed-in devices</h2><div class="card">${sessions
      .map(
        (s) =>
          `<div class="row"><span>${esc(s.device?.userAgent?.slice(0, 40) ?? "Unknown device")}${s.current ? " <strong>(this one)</strong>" : ""}<small>since ${esc(s.createdAt ? new Date(s.createdAt).toLocaleString() : "")}</small></span></div>`
      )
      .join("")}</div>` +
      `<button class="danger" id="everywhere">Log out everywhere</button><button class="secondary" id="logout">Log out on this device</button>`,
    "Devices"
  )
  $("everywhere").addEventListener("click", async () => {
    await call("logOutEverywhere", {})
    signOut("You logged out on every device.")
  })
  $("logout").addEventListener("click", async () => {
    await call("logout", {})
    signOut("You logged out.")
  })
}

// ── Log-in ────────────────────────────────────────────────────────────────────────────────
function renderLogin() {
  show(
    `<h2>Log in</h2><form id="login"><label for="username">Username</label><input id="username" autocomplete="username" required autocapitalize="none">` +
      `<label for="password">Password</label><input id="password" type="password" autocomplete="current-password" required>` +
      `<button>Log in</button></form><p id="signed-out" class="muted" role="status">${esc(signedOutWhy)}</p>`,
    "Log in"
  )
  $("login").addEventListener("submit", async (e) => {
    e.preventDefault()
    const answer = await api("login", {
      body: { username: $<HTMLInputElement>("username").value, password: $<HTMLInputElement>("password").value }
    })
    if (answer.status !== 200)
      return void ($("signed-out").textContent = (answer.body as { detail?: string })?.detail ?? "Could not log in.")
    signedIn(answer.body.accessToken, answer.body.refreshToken)
    signedOutWhy = ""
    location.hash = "#/dashboard"
  })
}

const route = () => location.hash.split("/")[1] ?? ""

async function render() {
  if (!accessToken) {
    if (route() !== "login") location.hash = "#/login"
    return renderLogin()
  }
  $("nav").hidden = false
  if (!closeEvents) startEvents()
  renderNet()
  const [, screen, arg] = location.hash.split("/")
  if (screen === "account" && arg) return renderAccount(decodeURIComponent(arg))
  if (screen === "transfer") return renderTransfer()
  if (screen === "profile") return renderProfile()
  if (screen === "sessions") return renderSessions()
  if (screen !== "dashboard") location.hash = "#/dashboard"
  renderDashboard()
}

applyTheme(store.get("theme") ?? "system")
addEventListener("hashchange", () => void render())
void render()
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => undefined)
