// A latency histogram in microseconds with about 0.1% relative precision and fixed memory, in
// the manner of HdrHistogram: values below 2048 µs are counted exactly, larger ones in 1024
// sub-buckets per power of two. Millions of samples cost nothing more than a few.

const EXACT = 2048
const SUB = 1024
const MAX_EXPONENT = 40 // 2^40 µs is twelve days: nothing we measure

export class Histogram {
  private readonly counts = new Float64Array(EXACT + (MAX_EXPONENT - 10) * SUB)
  count = 0
  private sum = 0
  private minimum = Infinity
  private maximum = 0

  /** Records one value in microseconds (rounded; negatives count as 0). */
  record(micros: number): void {
    const v = Math.max(0, Math.round(micros))
    this.counts[indexOf(v)]! += 1
    this.count += 1
    this.sum += v
    if (v < this.minimum) this.minimum = v
    if (v > this.maximum) this.maximum = v
  }

  merge(other: Histogram): void {
    for (let i = 0; i < other.counts.length; i++) this.counts[i]! += other.counts[i]!
    this.count += other.count
    this.sum += other.sum
    this.minimum = Math.min(this.minimum, other.minimum)
    this.maximum = Math.max(this.maximum, other.maximum)
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count
  }

  get min(): number {
    return this.count === 0 ? 0 : this.minimum
  }

  get max(): number {
    return this.maximum
  }

  /** The value at percentile `p` (0-100), in microseconds: the highest value of its bucket, capped at max. */
  percentile(p: number): number {
    if (this.count === 0) return 0
    const rank = Math.max(1, Math.ceil((p / 100) * this.count))
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!
      if (seen >= rank) return Math.min(this.maximum, Math.max(this.min, upperOf(i)))
    }
    return this.maximum
  }
}

const indexOf = (v: number): number => {
  if (v < EXACT) return v
  const exponent = Math.min(MAX_EXPONENT - 1, Math.floor(Math.log2(v)))
  const shift = exponent - 10
  const sub = Math.min(SUB - 1, Math.floor(v / 2 ** shift) - SUB)
  return EXACT + (exponent - 11) * SUB + sub
}

const upperOf = (index: number): number => {
  if (index < EXACT) return index
  const exponent = 11 + Math.floor((index - EXACT) / SUB)
  const sub = (index - EXACT) % SUB
  const shift = exponent - 10
  return (SUB + sub + 1) * 2 ** shift - 1
}
