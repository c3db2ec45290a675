import { describe, expect, it } from "vitest"
import * as Cdc from "./Cdc.ts"

describe("isNewer", () => {
  it("orders by commit LSN as a 64-bit number, then by seq", () => {
    expect(Cdc.isNewer({ commitLsn: "0/16B3748", seq: 0 }, undefined)).toBe(true)
    expect(Cdc.isNewer({ commitLsn: "0/16B3748", seq: 1 }, { commitLsn: "0/16B3748", seq: 0 })).toBe(true)
    expect(Cdc.isNewer({ commitLsn: "0/16B3748", seq: 0 }, { commitLsn: "0/16B3748", seq: 0 })).toBe(false)
    expect(Cdc.isNewer({ commitLsn: "0/16B3748", seq: 0 }, { commitLsn: "0/16B3748", seq: 5 })).toBe(false)
    expect(Cdc.isNewer({ commitLsn: "1/0", seq: 0 }, { commitLsn: "0/FFFFFFFF", seq: 9 })).toBe(true)
    // Comparing the text would get these two wrong.
    expect(Cdc.isNewer({ commitLsn: "10/0", seq: 0 }, { commitLsn: "9/0", seq: 0 })).toBe(true)
    expect(Cdc.isNewer({ commitLsn: "0/9", seq: 0 }, { commitLsn: "0/10", seq: 0 })).toBe(false)
  })

  it("rejects what is not an LSN", () => {
    expect(() => Cdc.lsnToBigInt("12345")).toThrow(RangeError)
  })
})
