// The dead-letter admin API: only callers with the `admin` role may see or touch dead letters;
// they list them by stream, group and id range, and a purge deletes exactly what it names and
// is recorded on the audit trail with the admin's id. (Redrive itself is proven against a real
// actor in platform/DeadLetters.int.test.ts.)
import { Keys, PasswordHash } from "@bank/platform"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { useStack } from "./support/bankStack.ts"

const PASSWORD = "correct horse battery"
const stack = useStack({
  allRoutes: true,
  waitForUser: "clerk",
  seed: async (db) => {
    const hash = await Effect.runPromise(
      PasswordHash.hash(PASSWORD, { params: { ...PasswordHash.defaultParams, N: 1024 } })
    )
    for (const [id, user, roles] of [
      [1, "clerk", "{admin}"],
      [2, "carla", "{customer}"]
    ] as const) {
      await db.query(
        `INSERT INTO customer.customers (customer_id, given_name, family_name, email, address_line1, postal_code, city, country,
           date_of_birth, segment, roles) VALUES ($1, $2, 'Test', $3, '1 Main St', '1000', 'Brussels', 'BE', '1980-01-01', 'retail', $4)`,
        [id, user, `${user}@example.com`, roles]
      )
      await db.query(
        "INSERT INTO customer.credentials (customer_id, username, password_hash, status) VALUES ($1, $2, $3, 'active')",
        [id, user, hash]
      )
    }
  }
})

const stream = "test.admin"
const deadLetter = (n: number, group: string) =>
  stack.redis.xAdd(Keys.deadLetter(stream), "*", {
    id: `msg-${n}`,
    data: `{"n":${n}}`,
    "dead.entry": `${n}-0`,
    "dead.group": group,
    "dead.error": "boom",
    "dead.deliveries": "5"
  })

describe("/v1/admin/dead-letters", () => {
  it("is for admins only", async () => {
    const customer = await stack.login("carla", PASSWORD)
    expect((await stack.call("GET", "/v1/admin/dead-letters", { token: customer.token })).status).toBe(403)
    expect(
      (
        await stack.call("POST", `/v1/admin/dead-letters/${stream}/purge`, {
          token: customer.token,
          body: { all: true }
        })
      ).status
    ).toBe(403)
    expect((await stack.call("GET", "/v1/admin/dead-letters")).status).toBe(401)
  })

  it("lists by stream, group and range, and purges exactly what it names, audited", async () => {
    const ids = [await deadLetter(1, "billing"), await deadLetter(2, "billing"), await deadLetter(3, "ledger")]
    const admin = await stack.login("clerk", PASSWORD)
    const call = (method: string, path: string, body?: unknown) =>
      stack.call(method, path, { token: admin.token, ...(body !== undefined ? { body } : {}) })

    const streams = await call("GET", "/v1/admin/dead-letters")
    expect(streams.status).toBe(200)
    expect(streams.body.streams).toContainEqual({ stream, depth: 3 })
    const billing = await call("GET", `/v1/admin/dead-letters/${stream}?group=billing`)
    expect(billing.body.deadLetters.map((d: any) => d.id)).toEqual(ids.slice(0, 2))
    expect(billing.body.deadLetters[0]).toMatchObject({
      entryId: "1-0",
      group: "billing",
      error: "boom",
      deliveries: 5
    })
    const ranged = await call("GET", `/v1/admin/dead-letters/${stream}?from=${ids[1]}&to=${ids[2]}`)
    expect(ranged.body.deadLetters.map((d: any) => d.id)).toEqual(ids.slice(1))
    expect((await call("GET", `/v1/admin/dead-letters/${stream}?from=yesterday`)).status).toBe(400)
    expect((await call("POST", `/v1/admin/dead-letters/${stream}/purge`, {})).status).toBe(400)

    const purged = await call("POST", `/v1/admin/dead-letters/${stream}/purge`, { group: "billing", from: ids[1] })
    expect(purged.status).toBe(200)
    expect(purged.body.purged).toEqual([ids[1]])
    const left = await call("GET", `/v1/admin/dead-letters/${stream}`)
    expect(left.body.deadLetters.map((d: any) => d.id)).toEqual([ids[0], ids[2]])

    const audit = await stack.redis.xRange(Keys.stream("identity.audit"), "-", "+")
    const handled = audit.map((e) => JSON.parse(e.message["data"] ?? "{}")).find((p) => p._tag === "DeadLettersHandled")
    expect(handled).toMatchObject({ customerId: admin.customerId, action: "purge", stream, count: 1, ids: [ids[1]] })
  })
})
