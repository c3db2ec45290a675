// The client is derived from the API definition, not written beside it: the committed table
// must be exactly what the generator makes of today's OpenAPI document, and the runtime must
// send what the table says.
import * as Api from "@bank/edge"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { createClient, pathOf } from "@bank/client"
import { generate } from "../packages/client/src/Generate.ts"

describe("the typed client", () => {
  it("is generated from the current OpenAPI document (run scripts/generate-client.ts after changing a route)", () => {
    expect(readFileSync(new URL("../packages/client/src/generated.ts", import.meta.url), "utf8")).toBe(
      generate(Api.document as Record<string, unknown>)
    )
  })

  it("fills path parameters, query, token and body as the operation says", async () => {
    expect(pathOf("listTransactions", { id: "deposits:10" }, { cursor: "abc" })).toBe(
      "/v1/accounts/deposits%3A10/transactions?cursor=abc"
    )
    const sent: Array<[string, RequestInit]> = []
    const client = createClient({
      baseUrl: "http://api",
      token: () => "t0k",
      fetch: async (url, init) => {
        sent.push([String(url), init!])
        return new Response(JSON.stringify({ transferId: "x" }), {
          status: 202,
          headers: { "Content-Type": "application/json" }
        })
      }
    })
    const answer = await client("createTransfer", {
      headers: { "Idempotency-Key": "k1" },
      body: {
        fromAccountId: "deposits:1",
        toAccountId: "deposits:2",
        amount: { amount: "1.00", currency: "EUR" },
        reference: ""
      }
    })
    expect(answer.status).toBe(202)
    if (answer.status === 202) expect(answer.body.transferId).toBe("x")
    const [url, init] = sent[0]!
    expect(url).toBe("http://api/v1/transfers")
    expect(init.method).toBe("POST")
    expect(init.headers).toMatchObject({
      Authorization: "Bearer t0k",
      "Idempotency-Key": "k1",
      "Content-Type": "application/json"
    })
    // Login needs no token: none is sent.
    await client("login", { body: { username: "a", password: "b" } })
    expect(sent[1]![1].headers).not.toHaveProperty("Authorization")
  })
})
