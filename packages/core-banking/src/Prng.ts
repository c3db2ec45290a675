// A seeded pseudo-random generator for synthetic data: the same seed gives the same data set,
// byte for byte, whatever the machine. Not for secrets (salts of real passwords, tokens): those
// come from crypto.randomBytes.
//
// Each customer draws from its own stream, seeded by (run seed, customer id), so a customer's
// data does not depend on how many were generated before it or in which batch.

/** 32-bit FNV-1a over the parts, then a murmur3 finaliser to spread close seeds apart. */
export const hashSeed = (...parts: ReadonlyArray<string | number>): number => {
  let h = 0x811c9dc5
  for (const char of parts.join("\u0000")) {
    h ^= char.codePointAt(0)!
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

export interface Random {
  /** Uniform in [0, 1). */
  readonly next: () => number
  /** Uniform integer in [min, max], both included. */
  readonly int: (min: number, max: number) => number
  readonly chance: (probability: number) => boolean
  readonly pick: <A>(items: ReadonlyArray<A>) => A
  /** Picks by weight: `weighted([["a", 3], ["b", 1]])` gives "a" three times as often. */
  readonly weighted: <A>(items: ReadonlyArray<readonly [A, number]>) => A
  /** Log-normal-ish positive integer around `median`, for amounts (most small, a few large). */
  readonly around: (median: number, spread?: number) => number
}

/** mulberry32: tiny, fast and good enough for test data (passes gjrand's smaller batteries). */
export const random = (seed: number): Random => {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1))
  return {
    next,
    int,
    chance: (probability) => next() < probability,
    pick: (items) => items[Math.floor(next() * items.length)]!,
    weighted: (items) => {
      const total = items.reduce((sum, [, weight]) => sum + weight, 0)
      let roll = next() * total
      for (const [item, weight] of items) {
        roll -= weight
        if (roll < 0) return item
      }
      return items[items.length - 1]![0]
    },
    around: (median, spread = 0.6) => {
      // Sum of three uniforms ~ normal; exp of it ~ log-normal.
      const normal = (next() + next() + next() - 1.5) * 2
      return Math.max(1, Math.round(median * Math.exp(normal * spread)))
    }
  }
}
