import { Effect, Schema } from "effect"
import { Hono } from "hono"
import { describe, expect, it } from "vitest"
import { decodeBody } from "./RequestBody.ts"

// In-process: what decodeBody answers, without the edge around it.
const decodeWith = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S) => {
  const app = new Hono()
  app.post("/", async (c) => c.json(await Effect.runPromise(Effect.result(decodeBody(c, schema)))))
  return (body: string, contentType?: string) =>
    Promise.resolve(
      app.request("/", { method: "POST", body, headers: contentType ? { "Content-Type": contentType } : {} })
    ).then(
      (r) =>
        r.json() as Promise<{ _tag: "Success"; value: unknown } | { _tag: "Failure"; failure: Record<string, unknown> }>
    )
}

describe("decodeBody", () => {
  const decode = decodeWith(Schema.Struct({ "a/b": Schema.Number, "~x": Schema.Array(Schema.String) }))

  it("accepts JSON media types with parameters and +json suffixes", async () => {
    const body = JSON.stringify({ "a/b": 1, "~x": ["y"] })
    for (const type of ["application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json"]) {
      expect(await decode(body, type)).toMatchObject({ _tag: "Success", value: { "a/b": 1, "~x": ["y"] } })
    }
  })

  it("refuses other media types and a missing one", async () => {
    for (const type of ["text/plain", "application/jsonp", "multipart/form-data", undefined]) {
      expect(await decode("{}", type)).toMatchObject({ _tag: "Failure", failure: { _tag: "UnsupportedMediaType" } })
    }
  })

  it("reports an empty body as malformed", async () => {
    expect(await decode("", "application/json")).toMatchObject({ _tag: "Failure", failure: { _tag: "MalformedBody" } })
  })

  it("names bad fields by JSON Pointer, escaping '/' and '~' and counting array items", async () => {
    const result = await decode(JSON.stringify({ "a/b": "1", "~x": ["ok", 2] }), "application/json")
    expect(result).toMatchObject({
      _tag: "Failure",
      failure: {
        _tag: "InvalidBody",
        errors: [
          { path: "/a~1b", message: "Expected number" },
          { path: "/~0x/1", message: "Expected string" }
        ]
      }
    })
  })
})
