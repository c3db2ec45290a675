// The document store's write semantics on plain JS values: the oracle the contract suite
// compares both backends with over random operations. Numbers stay small integers there, so
// JS arithmetic is exact; exactness itself is tested separately.
import type { Path } from "./JsonPath.ts"

export type Value = null | boolean | number | string | Array<Value> | { [key: string]: Value }

export type RefOp =
  | { readonly op: "set"; readonly path: Path; readonly value: Value }
  | { readonly op: "merge"; readonly path: Path; readonly patch: Value }
  | { readonly op: "incr"; readonly path: Path; readonly by: number }
  | { readonly op: "append"; readonly path: Path; readonly values: ReadonlyArray<Value>; readonly keepLast?: number }
  | { readonly op: "delete"; readonly path: Path }

class Refused extends Error {}

const isObject = (v: unknown): v is { [key: string]: Value } => v !== null && typeof v === "object" && !Array.isArray(v)

const mergePatch = (target: Value | undefined, patch: Value): Value => {
  if (!isObject(patch)) return patch
  const result: { [key: string]: Value } = isObject(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k]
    else result[k] = mergePatch(result[k], v)
  }
  return result
}

// The child at seg, as the store sees it: indexes only into arrays, keys only into objects.
const child = (cur: Value | undefined, seg: string | number): Value | undefined =>
  typeof seg === "number"
    ? Array.isArray(cur) && seg < cur.length
      ? cur[seg]
      : undefined
    : isObject(cur) && Object.hasOwn(cur, seg)
      ? cur[seg]
      : undefined

// Applies one op to a box holding the document ({ doc } with doc absent = no document).
const applyOne = (box: { doc?: Value }, op: RefOp): void => {
  if (op.op === "delete" || (op.op === "merge" && op.patch === null)) {
    if (op.path.length === 0) return void delete box.doc
    let cur: Value | undefined = box.doc
    for (const seg of op.path.slice(0, -1)) cur = child(cur, seg)
    const last = op.path.at(-1)!
    if (typeof last === "number" && Array.isArray(cur) && last < cur.length) cur.splice(last, 1)
    else if (typeof last === "string" && isObject(cur)) delete cur[last]
    return
  }
  // Walk to the parent, creating objects on the way.
  let parent: { [slot: string | number]: Value } = box as never
  let slot: string | number = "doc"
  for (const seg of op.path) {
    let cur = parent === (box as never) ? box.doc : child(parent as Value, slot)
    if (cur === undefined) {
      if (typeof seg === "number") throw new Refused("array elements are not created by a path")
      cur = parent[slot] = {}
    }
    if (typeof seg === "number" ? !Array.isArray(cur) || seg >= cur.length : !isObject(cur))
      throw new Refused("wrong turn")
    parent = cur as never
    slot = seg
  }
  const current = slot === "doc" && parent === (box as never) ? box.doc : child(parent as Value, slot)
  const write = (v: Value) => {
    parent[slot] = v
  }
  switch (op.op) {
    case "set":
      return write(structuredClone(op.value))
    case "merge":
      return write(mergePatch(current, structuredClone(op.patch)))
    case "incr":
      if (current !== undefined && typeof current !== "number") throw new Refused("not a number")
      return write((current ?? 0) + op.by)
    case "append": {
      if (current !== undefined && !Array.isArray(current)) throw new Refused("not an array")
      const all = [...(current ?? []), ...structuredClone(op.values)]
      return write(op.keepLast === undefined ? all : all.slice(Math.max(0, all.length - op.keepLast)))
    }
  }
}

/** The document after `ops`, or "refused" when one of them fails (then nothing applies). */
export const applyAll = (doc: Value | undefined, ops: ReadonlyArray<RefOp>): { readonly doc?: Value } | "refused" => {
  const box: { doc?: Value } = doc === undefined ? {} : { doc: structuredClone(doc) }
  try {
    for (const op of ops) applyOne(box, op)
  } catch (error) {
    if (error instanceof Refused) return "refused"
    throw error
  }
  return box
}

// Repeatable pseudo-random operations over keys and strings that stress the store's scanning.
const KEYS = ["a", "b", "list", "n", "0", 'q"k', "]}{[", "ü 😀"]

/** A repeatable random integer in [0, n) from a 32-bit seed (mulberry32). */
export const seededRandom =
  (seed: number) =>
  (n: number): number => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)
  }

export const randomOps = (seed: number) => {
  const rand = seededRandom(seed)
  const key = () => KEYS[rand(KEYS.length)]!
  const scalar = (): Value => [0, 7, -3, "s", "]}{[", 'q"x\\', true, null][rand(8)]!
  const value = (depth = 0): Value => {
    const r = rand(depth > 1 ? 3 : 6)
    if (r === 3 || r === 5) return Array.from({ length: rand(4) }, () => value(depth + 1))
    if (r === 4) return Object.fromEntries(Array.from({ length: rand(4) }, () => [key(), value(depth + 1)]))
    return scalar()
  }
  // Mostly real places in the document, sometimes a wrong turn or a missing place.
  const path = (doc: Value | undefined): Array<string | number> => {
    const segments: Array<string | number> = []
    let cur = doc
    while (rand(3) > 0 && (Array.isArray(cur) || isObject(cur) || rand(4) === 0)) {
      const keys = isObject(cur) ? Object.keys(cur) : []
      const seg: string | number = Array.isArray(cur)
        ? rand(cur.length + (rand(4) === 0 ? 1 : 0))
        : keys.length > 0 && rand(4) > 0
          ? keys[rand(keys.length)]!
          : rand(6) === 0
            ? rand(2)
            : key()
      segments.push(seg)
      cur = child(cur, seg)
    }
    return segments
  }
  const op = (doc: Value | undefined): RefOp => {
    const at = path(doc)
    // Counters and lists are usually kept under their own key: often address a fresh one.
    const fresh = (name: string) => (rand(2) === 0 ? [...at, name] : at)
    switch (rand(6)) {
      case 0:
        return { op: "set", path: at, value: value() }
      case 1:
        return {
          op: "merge",
          path: at,
          patch:
            rand(4) === 0
              ? value()
              : Object.fromEntries([
                  [key(), value(1)],
                  [key(), null]
                ])
        }
      case 2:
      case 3:
        return { op: "incr", path: fresh("n"), by: rand(21) - 10 }
      case 4:
        return rand(2) === 0
          ? { op: "append", path: fresh("list"), values: [value(1), value(1)].slice(rand(2)), keepLast: 1 + rand(4) }
          : { op: "append", path: fresh("list"), values: [value(1)] }
      default:
        return { op: "delete", path: at.length > 0 ? at : [key()] }
    }
  }
  /** Mostly one operation, sometimes two or three, their paths drawn from the document. */
  return (doc: Value | undefined): Array<RefOp> =>
    Array.from({ length: rand(3) === 0 ? 2 + rand(2) : 1 }, () => op(doc))
}
