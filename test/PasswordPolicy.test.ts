import { describe, expect, it } from "@effect/vitest"
import { Either, Redacted } from "effect"
import * as PasswordPolicy from "../src/PasswordPolicy.js"

const context = { username: "AliceWonder", email: "alice@example.com" }
const check = (password: string, policy: Partial<PasswordPolicy.PasswordPolicy> = {}) =>
  PasswordPolicy.check({ ...PasswordPolicy.defaultPolicy, ...policy }, Redacted.make(password), context)
const reasons = (password: string, policy: Partial<PasswordPolicy.PasswordPolicy> = {}) =>
  Either.match(check(password, policy), { onLeft: (e) => e.reasons, onRight: () => [] })

describe("PasswordPolicy", () => {
  it("accepts a long, uncommon password and returns it NFC-normalised", () => {
    expect(reasons("purple-monkey-dishwasher")).toEqual([])
    expect(Redacted.value(Either.getOrThrow(check("cafe\u0301 au lait, please")))).toBe("caf\u00e9 au lait, please")
  })

  it("treats NFC-equivalent passwords as the same", () => {
    const composed = Redacted.value(Either.getOrThrow(check("\u00e9t\u00e9 \u00e0 la plage")))
    const decomposed = Redacted.value(Either.getOrThrow(check("e\u0301te\u0301 a\u0300 la plage")))
    expect(decomposed).toBe(composed)
    expect(Redacted.value(PasswordPolicy.normalize(Redacted.make("e\u0301te\u0301")) ?? Redacted.make(""))).toBe(
      "\u00e9t\u00e9"
    )
  })

  it("counts length in code points after normalisation", () => {
    expect(reasons("𝒜".repeat(8))).toEqual([])
    expect(reasons("𝒜".repeat(7))).toEqual(["too-short"])
    expect(reasons("xyzqvw7")).toEqual(["too-short"])
    expect(reasons("xyzqvw7k")).toEqual([])
    // eight code points typed, four after NFC
    expect(reasons("e\u0301".repeat(4))).toEqual(["too-short"])
    expect(reasons("𝒜".repeat(256))).toEqual([])
    expect(reasons("𝒜".repeat(257))).toEqual(["too-long"])
    expect(reasons("q".repeat(256))).toEqual([])
    expect(reasons("q".repeat(257))).toEqual(["too-long"])
  })

  it("refuses more than 1024 UTF-8 bytes before doing anything else", () => {
    expect(PasswordPolicy.normalize(Redacted.make("q".repeat(1024)))).toBeDefined()
    expect(PasswordPolicy.normalize(Redacted.make("q".repeat(1025)))).toBeUndefined()
    // 513 UTF-16 units but 1026 bytes
    expect(PasswordPolicy.normalize(Redacted.make("\u00e9".repeat(513)))).toBeUndefined()
    expect(PasswordPolicy.normalize(Redacted.make("\u00e9".repeat(512)))).toBeDefined()
    expect(reasons("q".repeat(1025))).toEqual(["too-long"])
    expect(reasons("q".repeat(10_000_000))).toEqual(["too-long"])
  })

  it("refuses a password that is not well-formed UTF-16", () => {
    expect(reasons("lone surrogate \uD800 here")).toEqual(["malformed"])
    expect(PasswordPolicy.normalize(Redacted.make("abc\uDC00defgh"))).toBeUndefined()
  })

  it("refuses common passwords in any letter case", () => {
    expect(reasons("password1")).toEqual(["common"])
    expect(reasons("PassWord1")).toEqual(["common"])
    expect(reasons("QWERTYUIOP")).toEqual(["common"])
    expect(reasons("password1", { rejectCommon: false })).toEqual([])
  })

  it("refuses the username or the email, compared case-insensitively", () => {
    expect(reasons("aLICEwONDER")).toEqual(["same-as-username"])
    expect(reasons("ALICE@EXAMPLE.COM")).toEqual(["same-as-email"])
    const nfc = PasswordPolicy.check(PasswordPolicy.defaultPolicy, Redacted.make("JOS\u00c9MARIA"), {
      username: "Jose\u0301Maria",
      email: "jm@example.com"
    })
    expect(Either.isLeft(nfc) && nfc.left.reasons).toEqual(["same-as-username"])
  })

  it("lists every reason", () => {
    const result = PasswordPolicy.check(PasswordPolicy.defaultPolicy, Redacted.make("password"), {
      username: "password",
      email: "p@example.com"
    })
    expect(Either.isLeft(result) && result.left.reasons).toEqual(["common", "same-as-username"])
  })

  it("applies composition rules and a larger minimum only when asked", () => {
    const all = { requireLowercase: true, requireUppercase: true, requireDigit: true, requireSymbol: true }
    expect(reasons("ALL UPPER CASE 1", all)).toEqual(["missing-lowercase"])
    expect(reasons("all lower case 1", all)).toEqual(["missing-uppercase"])
    expect(reasons("No Digits Here!", all)).toEqual(["missing-digit"])
    expect(reasons("NoSymbolsHere1", all)).toEqual(["missing-symbol"])
    expect(reasons("nosymbolsordigitsorcaps", all)).toEqual(["missing-uppercase", "missing-digit", "missing-symbol"])
    expect(reasons("Ünïcödé 9 ok!", all)).toEqual([])
    expect(reasons("nosymbolsordigitsorcaps")).toEqual([])
    expect(reasons("elevenchars", { minLength: 12 })).toEqual(["too-short"])
    expect(reasons("twelvecharsx", { minLength: 12 })).toEqual([])
    // a policy can never go below 8
    expect(reasons("sevenxq", { minLength: 4 })).toEqual(["too-short"])
  })
})
