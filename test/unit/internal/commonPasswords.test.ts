import { describe, expect, it } from "@effect/vitest"
import { dictionary } from "@zxcvbn-ts/language-common"
import { commonPasswords } from "../../../src/internal/commonPasswords.js"
import { deriveCommonPasswords } from "../../../src/internal/commonPasswordsSource.js"

describe("commonPasswords", () => {
  it("equals the list derived from @zxcvbn-ts/language-common", () => {
    expect([...commonPasswords]).toEqual(deriveCommonPasswords(dictionary["passwords-common"]))
  })

  it("holds at least 10,000 lower-cased passwords of 8 or more code points", () => {
    expect(commonPasswords.size).toBeGreaterThanOrEqual(10_000)
    for (const entry of commonPasswords) {
      expect([...entry].length).toBeGreaterThanOrEqual(8)
      expect(entry).toBe(entry.normalize("NFC").toLowerCase())
    }
    expect(commonPasswords.has("password")).toBe(true)
    expect(commonPasswords.has("")).toBe(false)
  })
})
