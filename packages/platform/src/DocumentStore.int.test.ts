// The document store's contract, run against every backend the test server supports: the lua
// backend always, the native one when the server has the JSON type (skipped with the reason
// printed otherwise). Each test works on its own keys of a private Redis.
import { Cause, Effect, Exit, Layer, ManagedRuntime, Option } from "effect"
import { Redis } from "effect/persistence/Redis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "@bank/test-kit"
import { DocumentStore, type DocumentStoreError, layer, layerBackend, Op } from "./DocumentStore.ts"
import { hasJsonType } from "./documentStore/Backend.ts"
import { format } from "./documentStore/JsonPath.ts"
import { applyAll, randomOps, type RefOp, seededRandom, type Value } from "./documentStore/ReferenceDocument.ts"
import * as RedisClient from "./RedisClient.ts"

const redisServer = useRedis()

type Store = DocumentStore["Service"]
const storeLayer = (backend: "lua" | "native") =>
  layerBackend(backend).pipe(Layer.provideMerge(RedisClient.layer(redisServer.server.url)))
type Runtime = ManagedRuntime.ManagedRuntime<DocumentStore | Redis, unknown>

describe.each(["lua", "native"] as const)("DocumentStore (%s backend)", (backend) => {
  let runtime: Runtime | undefined
  let skipReason: string | undefined
  let keyNo = 0
  const key = (name: string) => `{t:${backend}}:${name}:${++keyNo}`

  beforeAll(async () => {
    if (backend === "native") {
      const probe = ManagedRuntime.make(RedisClient.layer(redisServer.server.url))
      const hasJson = await probe.runPromise(Redis.use((r) => hasJsonType(r)))
      await probe.dispose()
      if (!hasJson) {
        skipReason = "this Redis has no JSON type (RedisJSON): the native backend is not tested here"
        console.log(`DocumentStore native backend skipped: ${skipReason}`)
        return
      }
    }
    runtime = ManagedRuntime.make(storeLayer(backend))
    await runtime.runPromise(Effect.void)
  })
  afterAll(async () => {
    await runtime?.dispose()
  })

  const run = <A>(f: (store: Store) => Effect.Effect<A, DocumentStoreError>): Promise<A> =>
    runtime!.runPromise(DocumentStore.use(f))
  const failure = (f: (store: Store) => Effect.Effect<unknown, DocumentStoreError>): Promise<DocumentStoreError> =>
    run((s) => Effect.flip(f(s)) as Effect.Effect<DocumentStoreError, never>)
  const raw = (k: string, path?: string) => run((s) => s.getRaw(k, path)).then(Option.getOrNull)
  const value = (k: string, path?: string) => run((s) => s.get(k, path)).then(Option.getOrNull)
  const test = (name: string, body: () => Promise<void>) =>
    it(name, async (ctx) => {
      if (skipReason) ctx.skip(skipReason)
      await body()
    })

  test("reports which backend it runs", async () => {
    expect(await run((s) => Effect.succeed(s.backend))).toBe(backend)
  })

  test("runs the lua backend as a function library, loaded again when the server lost it", async () => {
    if (backend !== "lua") return
    const send = (...args: Array<string>) =>
      runtime!.runPromise(Redis.use((r) => r.send<unknown>(args[0]!, ...args.slice(1))))
    const k = key("functions")
    await run((s) => s.apply(k, [Op.set("$", { n: 1 })]))
    expect(JSON.stringify(await send("FUNCTION", "LIST"))).toMatch(/docstore_[0-9a-f]{12}/)
    // A restart without persistence, or FUNCTION FLUSH: the next call loads the library again.
    await send("FUNCTION", "FLUSH")
    expect(await run((s) => s.apply(k, [Op.guard("$.v", "2"), Op.incr("$.n", 1), Op.set("$.v", "1")]))).toEqual({
      _tag: "Applied",
      results: [null, "2", null]
    })
    expect(await value(k)).toEqual({ n: 2, v: "1" })
    expect(await run((s) => s.apply(k, [Op.guard("$.v", "1"), Op.incr("$.n", 1)]))).toEqual({ _tag: "Stale" })
  })

  test("answers none, not an error, for a missing document or path", async () => {
    const k = key("missing")
    expect(await run((s) => s.get(k))).toEqual(Option.none())
    expect(await run((s) => s.getRaw(k, "$.a.b"))).toEqual(Option.none())
    await run((s) => s.set(k, "$", { a: { b: 1 }, list: [1] }))
    expect(await run((s) => s.get(k, "$.a.c"))).toEqual(Option.none())
    expect(await run((s) => s.get(k, "$.list[5]"))).toEqual(Option.none())
    expect(await run((s) => s.get(k, "$.a.b.c"))).toEqual(Option.none())
    expect(await value(k, "$.a")).toEqual({ b: 1 })
  })

  test("sets whole documents and values at paths, creating missing parents", async () => {
    const k = key("set")
    await run((s) => s.set(k, "$.profile.address.city", "Oslo"))
    expect(await value(k)).toEqual({ profile: { address: { city: "Oslo" } } })
    await run((s) => s.set(k, "$.profile.tags", ["a", "b"]))
    await run((s) => s.set(k, "$.profile.tags[1]", "c"))
    await run((s) => s.set(k, "$.accounts", [{ balance: 1 }]))
    await run((s) => s.set(k, "$.accounts[0].balance", 2))
    expect(await value(k)).toEqual({
      profile: { address: { city: "Oslo" }, tags: ["a", "c"] },
      accounts: [{ balance: 2 }]
    })
    await run((s) => s.set(k, "$", { replaced: true }))
    expect(await value(k)).toEqual({ replaced: true })
  })

  test("keeps empty arrays and objects at every level through writes elsewhere", async () => {
    const k = key("empty")
    const doc = { e: [], o: {}, n: { e: [], o: {}, deep: [[], [{}], { x: [] }, ""] }, count: 0 }
    await run((s) => s.set(k, "$", doc))
    await run((s) => s.incr(k, "$.count", 1))
    await run((s) => s.merge(k, "$.n", { added: {} }))
    await run((s) => s.append(k, "$.n.deep", [[]]))
    expect(await raw(k)).toBe(
      '{"e":[],"o":{},"n":{"e":[],"o":{},"deep":[[],[{}],{"x":[]},"",[]],"added":{}},"count":1}'
    )
    expect(await raw(k, "$.n.deep[1]")).toBe("[{}]")
    for (const root of [[], {}]) {
      const r = key("emptyRoot")
      await run((s) => s.set(r, "$", root))
      expect(await raw(r)).toBe(JSON.stringify(root))
    }
  })

  const bigs = [12345678901234567n, 2n ** 53n + 1n, 10n ** 15n + 1n, 99999999999999999999n]
  test("keeps big integers exact through set, get and incr", async () => {
    for (const big of bigs) {
      const k = key("big")
      if (backend === "native" && big > 2n ** 63n - 1n) {
        // RedisJSON would store it as a double: refused rather than rounded.
        expect((await failure((s) => s.set(k, "$", { v: big }))).reason).toBe("NotExact")
        continue
      }
      await run((s) => s.set(k, "$", { v: big, list: [big] }))
      expect(await raw(k)).toBe(`{"v":${big},"list":[${big}]}`)
      expect(await raw(k, "$.list[0]")).toBe(String(big))
      expect(await run((s) => s.incr(k, "$.v", 1))).toBe(String(big + 1n))
      expect(await run((s) => s.incr(k, "$.v", -(big * 2n)))).toBe(String(-big + 1n))
      expect(await run((s) => s.incr(k, "$.fresh", big))).toBe(String(big))
      expect(await raw(k)).toBe(`{"v":${-big + 1n},"list":[${big}],"fresh":${big}}`)
    }
    const k = key("bigIncr")
    const by = "99999999999999999999"
    if (backend === "lua") expect(await run((s) => s.incr(k, "$.v", by))).toBe(by)
    else expect((await failure((s) => s.incr(k, "$.v", by))).reason).toBe("NotExact")
  })

  test("adds integers and decimals exactly, as exact decimal arithmetic would", async () => {
    // Repeatable pseudo-random increments: integers up to 10^17 on one number, decimals with
    // 4 places on another (few enough digits that RedisJSON's doubles keep them too).
    const rand = seededRandom(7)
    const next = (below: bigint) => (BigInt(rand(2 ** 30)) * BigInt(rand(2 ** 30)) * BigInt(rand(2 ** 30))) % below
    const ints = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? -1n : 1n) * next(10n ** 17n))
    const units = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? -1n : 1n) * next(10n ** 12n))
    const decimalText = (u: bigint) => {
      const abs = u < 0n ? -u : u
      return `${u < 0n ? "-" : ""}${abs / 10000n}.${String(abs % 10000n).padStart(4, "0")}`
    }
    const k = key("arith")
    const ops = ints.flatMap((n, i) => [Op.incr("$.ints", n), Op.incr("$.decimals", decimalText(units[i]!))])
    const result = await run((s) => s.apply(k, ops))
    let intSum = 0n
    let unitSum = 0n
    const expected = ints.flatMap((n, i) => {
      intSum += n
      unitSum += units[i]!
      return [String(intSum), decimalText(unitSum)]
    })
    expect(result).toEqual({ _tag: "Applied", results: expected })
    expect(await raw(k, "$.ints")).toBe(String(intSum))
    // RedisJSON keeps decimals as doubles, so it prints 1.5 for 1.5000: the same number.
    if (backend === "lua") expect(await raw(k, "$.decimals")).toBe(decimalText(unitSum))
    else expect(Number(await raw(k, "$.decimals"))).toBe(Number(decimalText(unitSum)))
  })

  test("keeps decimal strings, unicode and escapes unchanged, in values and keys", async () => {
    const k = key("text")
    const doc = {
      amount: "12.50",
      tiny: "0.000000000000000001",
      name: "Åsa Ñúñez 😀 中文",
      escapes: 'quote " backslash \\ slash / newline \n tab \t nul \u0000 bell \u0007',
      "key with.dots": 1,
      ключ: { 'a"b': true }
    }
    await run((s) => s.set(k, "$", doc))
    expect(await value(k)).toEqual(doc)
    expect(await value(k, '$["key with.dots"]')).toBe(1)
    expect(await value(k, '$["ключ"]["a\\"b"]')).toBe(true)
    await run((s) => s.set(k, '$["new key.x"]["😀"]', "ok"))
    await run((s) => s.incr(k, '$["key with.dots"]', 1))
    await run((s) => s.set(k, "$['it''s']".replace("''", "\\'"), "single"))
    expect(await value(k)).toEqual({ ...doc, "key with.dots": 2, "new key.x": { "😀": "ok" }, "it's": "single" })
  })

  test("finds its way past strings that look like JSON", async () => {
    // Brackets or escaped quotes inside strings send the lua backend down its careful scanner;
    // escapes without quotes (\n, \u00e9) stay on its fast path. Every path must give the same.
    const tricky = ["]}{[", '"}]', "end \\", "tab\tnew\nline", "\u00e9", "plain"]
    for (const text of tricky) {
      const k = key("tricky")
      const doc = { before: { s: text, list: [text, { [text]: [text] }] }, n: 1, after: [text] }
      await run((s) => s.set(k, "$", doc))
      await run((s) =>
        s.apply(k, [Op.incr("$.n", 1), Op.append("$.after", [text], 2), Op.set("$.before.list[1].x", text)])
      )
      expect(await value(k)).toEqual({
        before: { s: text, list: [text, { [text]: [text], x: text }] },
        n: 2,
        after: [text, text]
      })
      expect(await value(k, `$.before.list[1][${JSON.stringify(text)}][0]`)).toBe(text)
    }
  })

  test("merges as RFC 7386 says: objects merge, null deletes, arrays and scalars replace", async () => {
    const k = key("merge")
    await run((s) => s.set(k, "$", { a: 1, keep: "x", nested: { x: 1, y: { z: 1 } }, list: [1, 2, 3], gone: {} }))
    await run((s) =>
      s.merge(k, "$", { a: 2, gone: null, nested: { y: { w: 2 }, x: null }, list: [9], added: { n: null, m: 1 } })
    )
    expect(await value(k)).toEqual({ a: 2, keep: "x", nested: { y: { z: 1, w: 2 } }, list: [9], added: { m: 1 } })
    await run((s) => s.merge(k, "$.fresh.deeper", { v: 1 }))
    await run((s) => s.merge(k, "$.a", { now: "object" }))
    await run((s) => s.merge(k, "$.keep", null))
    await run((s) => s.merge(k, "$.list", "scalar"))
    expect(await value(k)).toEqual({
      a: { now: "object" },
      nested: { y: { z: 1, w: 2 } },
      list: "scalar",
      added: { m: 1 },
      fresh: { deeper: { v: 1 } }
    })
    const missing = key("mergeNew")
    await run((s) => s.merge(missing, "$", { b: { c: null, d: [] } }))
    expect(await raw(missing)).toBe('{"b":{"d":[]}}')
  })

  test("appends keeping only the newest N, in order", async () => {
    const k = key("append")
    for (let i = 1; i <= 5; i++) await run((s) => s.append(k, "$.feed.recent", [{ i }], { keepLast: 3 }))
    expect(await value(k, "$.feed.recent")).toEqual([{ i: 3 }, { i: 4 }, { i: 5 }])
    expect(await run((s) => s.append(k, "$.feed.recent", [6, 7, 8, 9], { keepLast: 3 }))).toBe(3)
    expect(await value(k, "$.feed.recent")).toEqual([7, 8, 9])
    expect(await run((s) => s.append(k, "$.feed.recent", [[], {}]))).toBe(5)
    expect(await raw(k, "$.feed.recent")).toBe("[7,8,9,[],{}]")
    expect(await run((s) => s.append(k, "$.fresh", [1, 2, 3], { keepLast: 2 }))).toBe(2)
    expect(await value(k, "$.fresh")).toEqual([2, 3])
  })

  test("deletes values at paths, array elements and whole documents", async () => {
    const k = key("delete")
    await run((s) => s.set(k, "$", { a: { b: 1, c: 2 }, list: ["x", "y", "z"] }))
    expect(await run((s) => s.delete(k, "$.a.b"))).toBe(true)
    expect(await run((s) => s.delete(k, "$.a.b"))).toBe(false)
    expect(await run((s) => s.delete(k, "$.list[1]"))).toBe(true)
    expect(await run((s) => s.delete(k, "$.nothing.here"))).toBe(false)
    expect(await value(k)).toEqual({ a: { c: 2 }, list: ["x", "z"] })
    expect(await run((s) => s.delete(k))).toBe(true)
    expect(await run((s) => s.get(k))).toEqual(Option.none())
    expect(await run((s) => s.delete(k))).toBe(false)
  })

  test("applies several operations as one: all of them, or none when one fails", async () => {
    const k = key("apply")
    await run((s) => s.set(k, "$", { balance: 100, name: "x", txs: [] }))
    const applied = await run((s) =>
      s.apply(k, [
        Op.incr("$.balance", -30),
        Op.append("$.txs", [{ id: 1 }], 10),
        Op.set("$.seen", true),
        Op.merge("$", { name: "y" }),
        Op.delete("$.nothing")
      ])
    )
    expect(applied).toEqual({ _tag: "Applied", results: ["70", 1, null, null, false] })
    const before = await raw(k)
    const error = await failure((s) =>
      s.apply(k, [Op.incr("$.balance", 1), Op.append("$.txs", [{ id: 2 }]), Op.incr("$.name", 1)])
    )
    expect(error.reason).toBe("TypeMismatch")
    expect(error.message).toContain("$.name")
    expect(await raw(k)).toBe(before)
    const fresh = key("applyFresh")
    await failure((s) => s.apply(fresh, [Op.set("$.a", 1), Op.set("$.a.b", 2)]))
    expect(await raw(fresh)).toBeNull()
  })

  test("applies once per id: the same id again changes nothing", async () => {
    const k = key("once")
    const once = { markerKey: `${k}:applied`, id: "tx-1", ttlSeconds: 60 }
    const ops = [Op.incr("$.balance", 5), Op.append("$.txs", ["tx-1"], 5)]
    expect(await run((s) => s.apply(k, ops, { once }))).toEqual({ _tag: "Applied", results: ["5", 1] })
    expect(await run((s) => s.apply(k, ops, { once }))).toEqual({ _tag: "Duplicate" })
    expect(await value(k)).toEqual({ balance: 5, txs: ["tx-1"] })
    const ttl = await runtime!.runPromise(Redis.use((r) => r.send<number>("TTL", once.markerKey)))
    expect(ttl).toBeGreaterThan(0)
    expect(await run((s) => s.apply(k, ops, { once: { ...once, id: "tx-2" } }))).toEqual({
      _tag: "Applied",
      results: ["10", 2]
    })
  })

  test("applies nothing, marker included, unless every guard's string is missing or sorts before `below`", async () => {
    // Positions as a projector writes them: fixed-width, so byte order is numeric order.
    const position = (lsn: number, seq: number) =>
      `${lsn.toString(16).toUpperCase().padStart(16, "0")}:${String(seq).padStart(10, "0")}`
    const k = key("guard")
    const apply = (at: string, amount: number, once?: { markerKey: string; id: string; ttlSeconds: number }) =>
      run((s) =>
        s.apply(k, [Op.incr("$.balance", amount), Op.set("$.source.position", at), Op.guard("$.source.position", at)], {
          once
        })
      )
    // Missing: passes. The guard may stand anywhere in the list; it is checked before any write.
    expect(await apply(position(0x10, 1), 100)).toEqual({ _tag: "Applied", results: ["100", null, null] })
    expect(await apply(position(0x20, 0), 5)).toEqual({ _tag: "Applied", results: ["105", null, null] })
    const before = await raw(k)
    // The same change again, and an older one after a newer one: nothing changes.
    expect(await apply(position(0x20, 0), 5)).toEqual({ _tag: "Stale" })
    expect(await apply(position(0x1f, 9), 7)).toEqual({ _tag: "Stale" })
    expect(await apply(position(0x10, 2), 7)).toEqual({ _tag: "Stale" })
    expect(await raw(k)).toBe(before)
    // A stale apply records no marker: the same id applies once its guard passes.
    const once = { markerKey: `${k}:applied`, id: "m-1", ttlSeconds: 60 }
    expect(await apply(position(0x1, 0), 1, once)).toEqual({ _tag: "Stale" })
    expect(await runtime!.runPromise(Redis.use((r) => r.send<number>("EXISTS", once.markerKey)))).toBe(0)
    expect((await apply(position(0x100000000, 0), 1, once))._tag).toBe("Applied")
    expect(await value(k)).toEqual({ balance: 106, source: { position: position(0x100000000, 0) } })
    // Several guards: all must pass (a compare-and-set on a revision beside a position).
    await run((s) => s.set(k, "$.revision", "0002"))
    const cas = (expected: string, next: string) =>
      run((s) =>
        s.apply(k, [
          Op.guard("$.revision", next),
          Op.guard("$.source.position", position(0x200000000, 0)),
          Op.set("$.revision", next)
        ])
      )
    expect(await cas("0002", "0003")).toMatchObject({ _tag: "Applied" })
    expect(await cas("0002", "0003")).toEqual({ _tag: "Stale" })
    expect(await raw(k, "$.revision")).toBe('"0003"')
    // A missing document or path on the way passes; a value that is not a string is refused.
    expect(
      await run((s) => s.apply(key("guardFresh"), [Op.guard("$.a.b", "1"), Op.set("$.a", { b: "0" })]))
    ).toMatchObject({ _tag: "Applied" })
    expect(await run((s) => s.apply(k, [Op.guard("$.balance.deeper", "1")]))).toMatchObject({ _tag: "Applied" })
    expect((await failure((s) => s.apply(k, [Op.guard("$.balance", "1"), Op.set("$.x", 1)]))).reason).toBe(
      "TypeMismatch"
    )
    expect(await run((s) => s.get(k, "$.x"))).toEqual(Option.none())
  })

  test("refuses bad paths and wrong types with a typed reason, leaving the document unchanged", async () => {
    const k = key("errors")
    await run((s) => s.set(k, "$", { n: 1, s: "text", o: { x: 1 }, list: [1] }))
    const before = await raw(k)
    const cases: Array<[string, (s: Store) => Effect.Effect<unknown, DocumentStoreError>]> = [
      ["InvalidPath", (s) => s.set(k, "$.a[", 1)],
      ["InvalidPath", (s) => s.get(k, "a.b")],
      ["InvalidPath", (s) => s.incr(k, "$..n", 1)],
      ["InvalidValue", (s) => s.set(k, "$.x", Number.NaN)],
      ["InvalidValue", (s) => s.incr(k, "$.n", "1,5")],
      ["InvalidValue", (s) => s.append(k, "$.list", [1], { keepLast: 0 })],
      [
        "InvalidValue",
        (s) => s.apply(k, [Op.incr("$.n", 1)], { once: { markerKey: "elsewhere:marker", id: "m", ttlSeconds: 60 } })
      ],
      ["TypeMismatch", (s) => s.incr(k, "$.s", 1)],
      ["TypeMismatch", (s) => s.incr(k, "$.o", 1)],
      ["TypeMismatch", (s) => s.append(k, "$.o", [1])],
      ["TypeMismatch", (s) => s.set(k, "$.n.deeper", 1)],
      ["TypeMismatch", (s) => s.set(k, "$.o[0]", 1)],
      ["TypeMismatch", (s) => s.set(k, "$.list.key", 1)],
      ["PathNotFound", (s) => s.set(k, "$.list[3]", 1)],
      ["PathNotFound", (s) => s.set(k, "$.o.new[0]", 1)]
    ]
    for (const [reason, f] of cases) {
      const error = await failure(f)
      expect({ reason: error.reason, message: error.message.length > 10 }).toEqual({ reason, message: true })
      expect(await raw(k)).toBe(before)
    }
  })

  test("keeps an expiry set on the document (sessions expire) across writes", async () => {
    const k = key("ttl")
    await run((s) => s.set(k, "$", { views: 0 }))
    await runtime!.runPromise(Redis.use((r) => r.send("EXPIRE", k, "600")))
    await run((s) => s.incr(k, "$.views", 1))
    await run((s) => s.set(k, "$", { views: 5 }))
    await run((s) => s.merge(k, "$", { theme: "dark" }))
    expect(await runtime!.runPromise(Redis.use((r) => r.send<number>("TTL", k)))).toBeGreaterThan(500)
  })

  test("refuses keys that do not hold one of its documents", async () => {
    const text = key("notJson")
    const hash = key("hash")
    await runtime!.runPromise(
      Redis.use((r) => Effect.all([r.send("SET", text, "hello {"), r.send("HSET", hash, "a", "1")]))
    )
    // Plain text is a corrupt document to the lua backend and a foreign type to RedisJSON.
    const expected = backend === "lua" ? "CorruptDocument" : "TypeMismatch"
    expect((await failure((s) => s.get(text))).reason).toBe(expected)
    expect((await failure((s) => s.incr(text, "$.n", 1))).reason).toBe(expected)
    expect((await failure((s) => s.set(hash, "$.a", 1))).reason).toBe("TypeMismatch")
    expect(await runtime!.runPromise(Redis.use((r) => r.send("GET", text)))).toBe("hello {")
  })

  test("agrees with a plain in-memory model over random operations, failures included", async () => {
    const toOp = (op: RefOp): Op => {
      const path = format(op.path)
      switch (op.op) {
        case "set":
          return Op.set(path, op.value)
        case "merge":
          return Op.merge(path, op.patch)
        case "incr":
          return Op.incr(path, op.by)
        case "append":
          return Op.append(path, op.values, op.keepLast)
        case "delete":
          return Op.delete(path)
      }
    }
    const next = randomOps(backend === "lua" ? 1 : 2)
    for (let round = 0; round < 4; round++) {
      const k = key("model")
      let model: Value | undefined = { a: { list: [1, "]}{["], "0": {} }, n: 1 }
      await run((s) => s.set(k, "$", model!))
      for (let step = 0; step < 40; step++) {
        const ops = next(model)
        const expected = applyAll(model, ops)
        const outcome = await run((s) => Effect.result(s.apply(k, ops.map(toOp))))
        const context = JSON.stringify({ before: model, ops })
        if (expected === "refused") {
          expect(outcome._tag, context).toBe("Failure")
          if (outcome._tag === "Failure")
            expect(["TypeMismatch", "PathNotFound"], context).toContain(outcome.failure.reason)
        } else {
          expect(outcome._tag, context).toBe("Success")
          model = expected.doc
        }
        expect(await value(k), context).toEqual(model ?? null)
      }
    }
  })

  test("sums many concurrent increments from several clients exactly", async () => {
    const k = key("concurrent")
    const by = 10n ** 15n + 1n
    const clients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const client = ManagedRuntime.make(storeLayer(backend))
        await client.runPromise(Effect.void)
        return client
      })
    )
    try {
      await Promise.all(
        clients.map((client) =>
          client.runPromise(
            DocumentStore.use((s) =>
              Effect.all(
                Array.from({ length: 50 }, () => s.incr(k, "$.total", by)),
                { concurrency: "unbounded" }
              )
            )
          )
        )
      )
    } finally {
      await Promise.all(clients.map((client) => client.dispose()))
    }
    expect(await raw(k, "$.total")).toBe(String(by * 200n))
  })
})

describe("DocumentStore start-up", () => {
  it("asks the server which backend to use, and refuses native where there is no JSON type", async () => {
    const redis = RedisClient.layer(redisServer.server.url)
    const probe = ManagedRuntime.make(redis)
    const hasJson = await probe.runPromise(Redis.use((r) => hasJsonType(r)))
    await probe.dispose()
    const auto = ManagedRuntime.make(layer.pipe(Layer.provide(redis)))
    expect(await auto.runPromise(DocumentStore.use((s) => Effect.succeed(s.backend)))).toBe(hasJson ? "native" : "lua")
    await auto.dispose()
    if (hasJson) return
    const forced = ManagedRuntime.make(layerBackend("native").pipe(Layer.provide(redis)))
    const exit = await forced.runPromiseExit(Effect.void)
    await forced.dispose()
    expect(Exit.isFailure(exit) ? Cause.squash(exit.cause) : exit).toMatchObject({
      _tag: "DocumentStoreError",
      reason: "Unavailable"
    })
  })
})
