// requireRole: a caller without the role gets 403 problem+json and the route never runs.
import { Hono } from "hono"
import { describe, expect, it } from "vitest"
import type { EdgeEnv } from "./ProblemDetails.ts"
import { requireRole } from "./Roles.ts"

const appWith = (roles: ReadonlyArray<string> | undefined) => {
  const app = new Hono<EdgeEnv>()
  let ran = 0
  app.use("*", async (c, next) => {
    if (roles) c.set("principal", { customerId: "1", sessionId: "s", roles })
    await next()
  })
  app.use("/v1/admin/*", requireRole("admin"))
  app.get("/v1/admin/thing", (c) => {
    ran++
    return c.json({ ok: true })
  })
  return { app, ran: () => ran }
}

describe("requireRole", () => {
  it("lets a caller with the role through", async () => {
    const { app, ran } = appWith(["customer", "admin"])
    expect((await app.request("/v1/admin/thing")).status).toBe(200)
    expect(ran()).toBe(1)
  })

  it("answers 403 problem+json to a customer, without running the route", async () => {
    for (const roles of [["customer"], ["customer", "premium", "business_admin"], undefined]) {
      const { app, ran } = appWith(roles)
      const response = await app.request("/v1/admin/thing")
      expect(response.status).toBe(403)
      expect(response.headers.get("content-type")).toBe("application/problem+json")
      expect(((await response.json()) as { type: string }).type).toBe("/docs/problems/forbidden")
      expect(ran()).toBe(0)
    }
  })
})
