// JSON.parse keeps the last of duplicated object keys silently, so `{"amount":"0.01",
// "amount":"500.00"}` would book 500.00 while a log or a signature check read 0.01. This scan,
// run on text JSON.parse already accepted, finds the first key that appears twice in one object.
// Pure; linear in the text.

/** JSON Pointer of the first duplicated key in valid JSON `text`, or undefined. */
export const firstDuplicateKey = (text: string): string | undefined => {
  // One frame per open container: the keys seen (objects only) and the current key or index.
  const stack: Array<{ keys: Set<string> | undefined; at: string | number }> = []
  let expectingKey = false
  let i = 0
  const pointer = (last: string) =>
    [...stack.slice(0, -1).map((f) => f.at), last]
      .map((s) => `/${String(s).replaceAll("~", "~0").replaceAll("/", "~1")}`)
      .join("")
  while (i < text.length) {
    const ch = text[i]!
    if (ch === '"') {
      let j = i + 1
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1
      const frame = stack.at(-1)
      if (expectingKey && frame?.keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string
        if (frame.keys.has(key)) return pointer(key)
        frame.keys.add(key)
        frame.at = key
        expectingKey = false
      }
      i = j + 1
      continue
    }
    if (ch === "{") {
      stack.push({ keys: new Set(), at: "" })
      expectingKey = true
    } else if (ch === "[") {
      stack.push({ keys: undefined, at: 0 })
    } else if (ch === "}" || ch === "]") {
      stack.pop()
    } else if (ch === ",") {
      const frame = stack.at(-1)
      if (frame?.keys) expectingKey = true
      else if (frame) frame.at = (frame.at as number) + 1
    }
    i++
  }
  return undefined
}
