import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import * as Envelope from "./Envelope.ts"
import * as StreamSpec from "./StreamSpec.ts"

const Deposited = Schema.TaggedStruct("Deposited", { accountId: Schema.String, amountMinor: Schema.BigInt })
const Closed = Schema.TaggedStruct("Closed", { accountId: Schema.String })
const spec = StreamSpec.define({
  name: "test.accounts",
  schema: Schema.Union([Deposited, Closed]),
  versions: { Deposited: 2 }
})

const roundTrip = (fields: ReadonlyArray<string>) =>
  Effect.runPromise(Effect.result(Envelope.decode(spec, "1-0", fields, 1)))
const encode = (envelope: Envelope.Envelope<any>) => Effect.runPromise(Envelope.encode(spec, envelope))
const withField = (fields: ReadonlyArray<string>, name: string, value: string) => {
  const copy = [...fields]
  copy[copy.indexOf(name) + 1] = value
  return copy
}

describe("Envelope", () => {
  it("round-trips every field, keeping amounts beyond 2^53 exact", async () => {
    const envelope = Envelope.make(spec, {
      key: "c1",
      payload: { _tag: "Deposited", accountId: "a1", amountMinor: 12345678901234567890n },
      replyTo: "replies:{r:x}",
      deadline: 123
    })
    const decoded = await roundTrip(await encode(envelope))
    expect(decoded._tag).toBe("Success")
    if (decoded._tag !== "Success") return
    const { stream, entryId, deliveries, ...rest } = decoded.success
    expect(rest).toEqual(envelope)
    expect(decoded.success.payload).toEqual({ _tag: "Deposited", accountId: "a1", amountMinor: 12345678901234567890n })
    expect(envelope.version).toBe(2)
    expect([stream, entryId, deliveries]).toEqual(["test.accounts", "1-0", 1])
  })

  it("carries correlation, causation and the trace of the message that caused it", () => {
    const first = Envelope.make(spec, { key: "c1", payload: { _tag: "Closed", accountId: "a1" } })
    const next = Envelope.make(spec, { key: "c1", payload: { _tag: "Closed", accountId: "a2" }, causedBy: first })
    expect(first.correlationId).toBe(first.id)
    expect(next.correlationId).toBe(first.id)
    expect(next.causationId).toBe(first.id)
    expect(next.trace.traceparent.slice(0, 35)).toBe(first.trace.traceparent.slice(0, 35))
    expect(next.trace.traceparent).not.toBe(first.trace.traceparent)
  })

  it("names what is wrong with an entry it cannot decode", async () => {
    const good = await encode(Envelope.make(spec, { key: "c1", payload: { _tag: "Closed", accountId: "a1" } }))
    const cases: Array<[ReadonlyArray<string>, string]> = [
      [["garbage", "x"], "MalformedEnvelope"],
      [withField(good, "type", "Opened"), "UnknownType"],
      [withField(withField(good, "type", "Deposited"), "v", "3"), "NewerVersion"],
      [withField(good, "data", "{not json"), "InvalidPayload"],
      [withField(good, "data", JSON.stringify({ _tag: "Closed" })), "InvalidPayload"],
      [withField(good, "type", "Deposited"), "InvalidPayload"]
    ]
    for (const [fields, reason] of cases) {
      const result = await roundTrip(fields)
      expect(result._tag, reason).toBe("Failure")
      if (result._tag === "Failure") expect(result.failure.reason).toBe(reason)
    }
  })
})
