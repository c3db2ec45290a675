// The web app in a real browser: Debian's chromium driven by playwright-core at a phone's
// viewport, against the whole system (every actor and projector, the edge serving the app at /).
// A customer logs in, sees the dashboard, makes a transfer between own accounts in a second tab
// ("booked → shown" through the consistency token) while the first tab's balances change without
// a reload (Server-Sent Events), then logs out everywhere, and the open dashboard is signed out.
// Screenshots of each screen go to docs/screenshots/; the app's size and time to interactive,
// against a plain page of the same edge, to docs/bench/web-app.json.
import * as Web from "@bank/web"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type BrowserContext, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { useStack } from "./support/bankStack.ts"
import { PASSWORD, seed, USER } from "./support/demoBank.ts"

const stack = useStack({ seed, waitForUser: USER, everything: true })
const shots = new URL("../docs/screenshots/", import.meta.url).pathname
const PHONE = { width: 390, height: 844 }

let context: BrowserContext
let profileDir = ""

beforeAll(async () => {
  // The system is up once the customer's dashboard has been built from the CDC snapshot.
  const { token } = await stack.login(USER, PASSWORD)
  await vi.waitFor(
    async () => {
      const { body } = await stack.call("GET", "/v1/dashboard", { token })
      expect(body.accounts.filter((a: { system: string }) => a.system === "deposits").length).toBeGreaterThanOrEqual(2)
    },
    { timeout: 120_000, interval: 250 }
  )
  mkdirSync(shots, { recursive: true })
  profileDir = mkdtempSync(join(tmpdir(), "bank-chromium-"))
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: PHONE,
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync"
    ]
  })
}, 180_000)

afterAll(async () => {
  await context?.close()
  if (profileDir) rmSync(profileDir, { recursive: true, force: true })
})

const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`) })
const balanceOf = async (page: Page, accountId: string) =>
  (await page.locator(`[data-account="${accountId}"]`).textContent()) ?? ""
const digits = (text: string) => BigInt(text.replace(/[^0-9-]/g, ""))

/** Milliseconds from navigation until the page is interactive and its main content is drawn. */
const loadTime = async (page: Page, url: string, ready: string) => {
  const started = Date.now()
  await page.goto(url)
  await page.locator(ready).first().waitFor()
  return Date.now() - started
}

describe("the web app on a phone", () => {
  it("logs in, shows the dashboard, books a transfer shown live in both balances, and logs out everywhere", async () => {
    const phone = context.pages()[0] ?? (await context.newPage())

    // Time to interactive: the app's log-in form, against a plain page of the same edge.
    // A first load warms the browser up; then the median of three loads of a plain page, the
    // app's first visit (nothing cached), and the median of three visits after it.
    const median = async (url: string, ready: string) => {
      const times = [
        await loadTime(phone, url, ready),
        await loadTime(phone, url, ready),
        await loadTime(phone, url, ready)
      ]
      return times.sort((a, b) => a - b)[1]!
    }
    await loadTime(phone, `${stack.base}/docs/problems`, "h1")
    const baseline = await median(`${stack.base}/docs/problems`, "h1")
    const interactive = await loadTime(phone, `${stack.base}/`, "#username")
    const repeat = await median(`${stack.base}/`, "#username")
    expect(await phone.getByLabel("Username").isVisible()).toBe(true)
    await shot(phone, "1-login")

    await phone.getByLabel("Username").fill(USER)
    await phone.getByLabel("Password").fill(PASSWORD)
    await phone.getByRole("button", { name: "Log in" }).click()
    // Every product line the customer holds, and the totals.
    await phone.locator("[data-total]").first().waitFor({ timeout: 60_000 })
    await phone.locator("[data-account^='deposits:']").nth(1).waitFor({ timeout: 60_000 })
    const dashboard = await phone.evaluate(() => JSON.parse(localStorage.getItem("bank.dashboard")!))
    for (const account of dashboard.accounts)
      await expect(phone.locator(`[data-account="${account.id}"]`).count()).resolves.toBe(1)
    const own = dashboard.accounts.filter((a: any) => a.system === "deposits" && a.status === "open")
    const [from, to] = [own[0], own[1]]
    const before = { from: digits(await balanceOf(phone, from.id)), to: digits(await balanceOf(phone, to.id)) }
    await shot(phone, "2-dashboard")

    // An account's history: the first page, then more as it scrolls.
    await phone.locator(`a[href="#/account/${encodeURIComponent(from.id)}"]`).click()
    await phone.locator("#history .row").first().waitFor()
    await shot(phone, "3-history")
    await phone.goBack()
    await phone.locator(`[data-account="${from.id}"]`).waitFor()

    // A transfer from a second tab of the same session; the first tab stays on the dashboard.
    const other = await context.newPage()
    await other.goto(`${stack.base}/#/transfer`)
    await other.getByLabel("From").selectOption(from.id)
    await other.getByLabel("To").selectOption(to.id)
    await other.getByLabel("Amount").fill("12.34")
    await other.getByLabel("Reference").fill("Browser test")
    await other.getByRole("button", { name: "Send" }).click()
    await other.getByText("Shown ✓").waitFor({ timeout: 30_000 })
    await expect(other.locator("#outcome").textContent()).resolves.toContain("Booked and shown")
    await shot(other, "4-transfer-booked-shown")

    // The first tab was not reloaded: its balances moved by themselves, over the live feed.
    await expect
      .poll(async () => digits(await balanceOf(phone, from.id)), { timeout: 30_000 })
      .toBe(before.from - 1234n)
    await expect.poll(async () => digits(await balanceOf(phone, to.id)), { timeout: 30_000 }).toBe(before.to + 1234n)
    // Still the page loaded before the log-in: no navigation since.
    await expect(
      phone.evaluate(
        () =>
          (
            globalThis as { performance: { getEntriesByType: (t: string) => Array<unknown> } }
          ).performance.getEntriesByType("navigation").length
      )
    ).resolves.toBe(1)
    await shot(phone, "5-dashboard-live")

    await other.goto(`${stack.base}/#/profile`)
    await other.getByLabel("Phone").waitFor()
    await shot(other, "6-profile")

    // Log out everywhere from the second tab: the open dashboard in the first is signed out.
    await other.goto(`${stack.base}/#/sessions`)
    await other.getByRole("button", { name: "Log out everywhere" }).waitFor()
    await shot(other, "7-devices")
    await other.getByRole("button", { name: "Log out everywhere" }).click()
    await phone.getByRole("button", { name: "Log in" }).waitFor({ timeout: 30_000 })
    await expect(phone.locator("#signed-out").textContent()).resolves.toMatch(/signed out|logged out/i)
    await shot(phone, "8-signed-out")
    await expect(phone.evaluate(() => localStorage.getItem("bank.access"))).resolves.toBeNull()

    const sizes = Web.Assets.sizes(Web.Assets.build())
    const report = {
      viewport: PHONE,
      bundle: sizes,
      timeToInteractiveMs: { firstVisit: interactive, repeatVisit: repeat },
      baselinePlainPageMs: baseline,
      ratio: {
        firstVisit: Number((interactive / baseline).toFixed(2)),
        repeatVisit: Number((repeat / baseline).toFixed(2))
      }
    }
    console.log("web app", JSON.stringify(report))
    writeFileSync(new URL("../docs/bench/web-app.json", import.meta.url), `${JSON.stringify(report, null, 2)}\n`)
    expect(sizes.gzip).toBeGreaterThan(0)
  }, 240_000)

  it("shows the last dashboard when offline", async () => {
    const page = await context.newPage()
    await page.goto(`${stack.base}/`)
    await page.getByLabel("Username").fill(USER)
    await page.getByLabel("Password").fill(PASSWORD)
    await page.getByRole("button", { name: "Log in" }).click()
    await page.locator("[data-account]").first().waitFor({ timeout: 60_000 })
    await page.evaluate(() =>
      (
        globalThis as unknown as { navigator: { serviceWorker: { ready: Promise<unknown> } } }
      ).navigator.serviceWorker.ready.then(() => true)
    )
    await context.setOffline(true)
    try {
      await page.reload()
      await page.locator("[data-account]").first().waitFor({ timeout: 30_000 })
      await page.locator("#offline").waitFor({ state: "visible", timeout: 30_000 })
      await shot(page, "9-offline")
    } finally {
      await context.setOffline(false)
    }
  }, 120_000)
})
