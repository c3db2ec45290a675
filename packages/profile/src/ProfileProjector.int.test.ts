// The profile projection against a real Redis: given CDC row changes, when applied (in order,
// again, or out of order), then this profile document.
import type { Cdc } from "@bank/contracts"
import { DocumentStore, RedisClient } from "@bank/platform"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "@bank/test-kit"
import { build, content } from "./Profile.ts"
import * as ProfileProjector from "./ProfileProjector.ts"
import * as Reconcile from "./Reconcile.ts"

const redisServer = useRedis()
let runtime: ManagedRuntime.ManagedRuntime<DocumentStore.DocumentStore, unknown>
beforeAll(async () => {
  runtime = ManagedRuntime.make(
    DocumentStore.layerBackend("lua").pipe(Layer.provide(RedisClient.layer(redisServer.server.url)))
  )
  await runtime.runPromise(Effect.void)
})
afterAll(() => runtime?.dispose())

let lsn = 0x100
const change = (table: string, op: Cdc.RowChanged["op"], row: Cdc.Row, at = ++lsn): Cdc.RowChanged => {
  const [schema, name] = table.split(".") as [string, string]
  return {
    _tag: "RowChanged",
    schema,
    table: name,
    op,
    key: { customer_id: row.customer_id ?? null },
    ...(op === "delete" ? { old: row } : { new: row }),
    commitLsn: `0/${at.toString(16).toUpperCase()}`,
    seq: 0,
    commitTime: new Date(1_750_000_000_000 + at).toISOString(),
    xid: at
  }
}
const apply = (...rows: Array<Cdc.RowChanged>) =>
  runtime.runPromise(Effect.forEach(rows, ProfileProjector.apply, { discard: true }))
const profile = (id: string) =>
  runtime
    .runPromise(DocumentStore.DocumentStore.use((s) => s.get(ProfileProjector.documentKey(id))))
    .then((o) => Option.getOrUndefined(o) as any)

const customer = (id: string, email: string): Cdc.Row => ({
  customer_id: id,
  given_name: "Åsa",
  family_name: "Nyström",
  email,
  phone: null,
  address_line1: "Storgatan 1",
  address_line2: null,
  postal_code: "11122",
  city: "Stockholm",
  country: "SE",
  date_of_birth: "1988-04-01",
  segment: "premier",
  kyc_status: "verified",
  kyc_reviewed_at: "2024-03-01 09:30:00.25+00",
  roles: "{customer,premium}"
})
const preferences = (id: string, theme: string): Cdc.Row => ({
  customer_id: id,
  language: "sv-SE",
  theme,
  marketing_email: "t",
  marketing_sms: "f",
  marketing_push: "f",
  consent_updated_at: "2024-03-01 09:30:00+00"
})

describe("profile projection", () => {
  it("compiles customer master, CRM and product rows into one document, as PostgreSQL's rows would build it", async () => {
    const rows: Array<[string, Cdc.Row]> = [
      ["customer.customers", customer("1", "asa@example.com")],
      ["customer.credentials", { customer_id: "1", username: "asa", status: "active", password_hash: "never copied" }],
      ["crm.preferences", preferences("1", "dark")],
      ["crm.interests", { customer_id: "1", interest: "travel", score: "80" }],
      [
        "crm.wish_list_items",
        { customer_id: "1", product_code: "gold_card", note: null, added_at: "2025-01-02 03:04:05.123456+00" }
      ],
      [
        "deposits.accounts",
        { customer_id: "1", account_id: "12", product: "savings", currency: "SEK", status: "open", balance: "1" }
      ],
      ["cards.cards", { customer_id: "1", card_id: "3", currency: "EUR", status: "active" }]
    ]
    await apply(...rows.map(([table, row]) => change(table, "snapshot", row)))
    const doc = await profile("1")
    expect(doc).toMatchObject({
      customerId: "1",
      name: { given: "Åsa", family: "Nyström" },
      email: "asa@example.com",
      phone: null,
      roles: ["customer", "premium"],
      kyc: { status: "verified", reviewedAt: "2024-03-01T09:30:00.250000Z" },
      username: "asa",
      loginStatus: "active",
      preferences: { language: "sv-SE", theme: "dark", marketing: { email: true, sms: false, push: false } },
      interests: { travel: 80 },
      wishList: { gold_card: { note: null, addedAt: "2025-01-02T03:04:05.123456Z" } },
      products: {
        "deposits:12": { line: "deposits", type: "savings", currency: "SEK", status: "open" },
        "cards:3": { line: "cards", type: "credit_card" }
      }
    })
    expect(JSON.stringify(doc)).not.toContain("never copied")
    expect(
      Reconcile.compare(
        "1",
        build(
          "1",
          rows.map(([table, row]) => ({ table, row }))
        ),
        doc
      )
    ).toEqual([])
    expect(content(doc)).not.toHaveProperty("sources")
  })

  it("ignores a redelivered change and an older change arriving after a newer one, row by row", async () => {
    const older = change("customer.customers", "update", customer("2", "old@example.com"))
    const newer = change("customer.customers", "update", customer("2", "new@example.com"))
    const theme = change("crm.preferences", "insert", preferences("2", "light"))
    await apply(newer, theme)
    // A crashed consumer's entries come back late: the older e-mail must not win...
    await apply(older, newer, theme)
    expect(await profile("2")).toMatchObject({ email: "new@example.com", preferences: { theme: "light" } })
    // ...while an older change of another row still applies: rows are independent facts.
    await apply(change("crm.interests", "insert", { customer_id: "2", interest: "home", score: "40" }, 0x10))
    expect((await profile("2")).interests).toEqual({ home: 40 })
  })

  it("removes what a deleted row owned and keeps it removed against an older redelivery", async () => {
    const added = change("crm.wish_list_items", "insert", {
      customer_id: "3",
      product_code: "mortgage",
      note: "2027",
      added_at: "2025-01-01 00:00:00+00"
    })
    const removed = change("crm.wish_list_items", "delete", {
      customer_id: "3",
      product_code: "mortgage",
      note: "2027",
      added_at: "2025-01-01 00:00:00+00"
    })
    await apply(change("customer.customers", "insert", customer("3", "c@example.com")), added, removed, added)
    const doc = await profile("3")
    expect(doc.wishList).toEqual({})
    expect(
      Reconcile.compare("3", build("3", [{ table: "customer.customers", row: customer("3", "c@example.com") }]), doc)
    ).toEqual([])
  })
})
