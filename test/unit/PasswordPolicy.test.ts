import { describe, expect, it } from "@effect/vitest"
import { Either, Redacted } from "effect"
import * as PasswordPolicy from "../../src/PasswordPolicy.js"

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
    expect(reasons("𠀀𠀂𠀄𠀆𠀈𠀊𠀌𠀎")).toEqual([])
    expect(reasons("𠀀𠀂𠀄𠀆𠀈𠀊𠀌")).toEqual(["too-short"])
    expect(reasons("xyzqvw7")).toEqual(["too-short"])
    expect(reasons("xyzqvw7k")).toEqual([])
    // eight code points typed, four after NFC
    expect(reasons("e\u0301o\u0301a\u0301i\u0301u\u0301")).toEqual(["too-short"])
    expect(reasons("𠀀𠀂𠀄𠀆𠀈𠀊𠀌".repeat(36) + "𠀀𠀂𠀄𠀆")).toEqual([])
    expect(reasons("𠀀𠀂𠀄𠀆𠀈𠀊𠀌".repeat(36) + "𠀀𠀂𠀄𠀆𠀈")).toEqual(["too-long"])
    expect(reasons("qwzkvjx".repeat(36) + "qwzk")).toEqual([])
    expect(reasons("qwzkvjx".repeat(36) + "qwzkv")).toEqual(["too-long"])
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
    // Both hold the address's local part (`alice`) too.
    expect(reasons("aLICEwONDER")).toEqual(["same-as-username", "contains-email"])
    expect(reasons("ALICE@EXAMPLE.COM")).toEqual(["same-as-email"])
    const nfc = PasswordPolicy.check(PasswordPolicy.defaultPolicy, Redacted.make("JOS\u00c9MARIA"), {
      username: "Jose\u0301Maria",
      email: "jm@example.com"
    })
    expect(Either.isLeft(nfc) && nfc.left.reasons).toEqual(["same-as-username"])
  })

  it("compares on NFKC and case folding, without invisible code points", () => {
    expect(reasons("ＰＡＳＳＷＯＲＤ")).toEqual(["common"])
    expect(reasons("pass\u200Bword1")).toEqual(["common"])
    expect(reasons("P\u00ADa\uFEFFssword1")).toEqual(["common"])
    expect(reasons("ＡＬＩＣＥＷＯＮＤＥＲ")).toEqual(["same-as-username", "contains-email"])
  })

  it("refuses fewer than 5 distinct visible characters", () => {
    for (
      const invisible of ["\u200B", "\uFEFF", "\u0000", "\u0301", "\u034F", "\u3164", "\uFE0F", " ", "\u{E0100}"]
    ) {
      expect(reasons(invisible.repeat(8)), JSON.stringify(invisible)).toEqual(["too-few-distinct"])
    }
    // Eight combining marks, all different, still show nothing.
    expect(reasons("\u0300\u0301\u0302\u0303\u0304\u0306\u0307\u0308")).toEqual(["too-few-distinct"])
    expect(reasons("abcabcabca")).toEqual(["too-few-distinct"])
    expect(reasons("abcdabcdab")).toEqual(["too-few-distinct"])
    expect(reasons("abcdxabcdz")).toEqual([])
    expect(reasons("1x2y3z1x2y")).toEqual([])
  })

  it("refuses repetitive and sequential strings", () => {
    expect(reasons("aaaaaaaa")).toEqual(["too-few-distinct", "repetitive"])
    expect(reasons("abcdeabcde")).toEqual(["repetitive"])
    expect(reasons("xk9#Qxk9#Q")).toEqual(["repetitive"])
    expect(reasons("abcdefgh")).toEqual(["sequential"])
    expect(reasons("ABCDEFGHIJKLMNOP")).toEqual(["sequential"])
    expect(reasons("hgfedcba")).toEqual(["sequential"])
    expect(reasons("12345678")).toEqual(["sequential", "common"])
    expect(reasons("98765432")).toEqual(["sequential"])
    expect(reasons("αβγδεζηθ")).toEqual(["sequential"])
    expect(reasons("abcdefgz")).toEqual([])
  })

  it("refuses the username and the email's local part anywhere inside, and the app's names", () => {
    const bob = { username: "alice", email: "alice@example.com" }
    const of = (password: string, policy: Partial<PasswordPolicy.PasswordPolicy> = {}) =>
      Either.match(
        PasswordPolicy.check({ ...PasswordPolicy.defaultPolicy, ...policy }, Redacted.make(password), bob),
        { onLeft: (e) => e.reasons, onRight: () => [] }
      )
    expect(of("alicealice")).toEqual(["repetitive", "contains-username", "contains-email"])
    expect(of("alice!!!")).toEqual(["contains-username", "contains-email"])
    expect(of("aliceexample")).toEqual(["contains-username", "contains-email"])
    expect(of("my-ALICE-pony")).toEqual(["contains-username", "contains-email"])
    const carol = { username: "carol", email: "c.wonder@example.com" }
    const ofCarol = (password: string) =>
      Either.match(PasswordPolicy.check(PasswordPolicy.defaultPolicy, Redacted.make(password), carol), {
        onLeft: (e) => e.reasons,
        onRight: () => []
      })
    expect(ofCarol("c.wonder1984")).toEqual(["contains-email"])
    expect(ofCarol("CAROL-1984-x")).toEqual(["contains-username"])
    expect(ofCarol("wonderful-day")).toEqual([])
    const appNames = ["UserHarbor", "Example Corp", "ab"]
    expect(of("userharbor2024", { appNames })).toEqual(["contains-app-name"])
    expect(of("ＵＳＥＲＨＡＲＢＯＲ!!", { appNames })).toEqual(["contains-app-name"])
    expect(of("i work at example corp", { appNames })).toEqual(["contains-app-name"])
    // Names shorter than 3 characters would refuse too much.
    expect(of("table-lamp-7", { appNames })).toEqual([])
    expect(of("userharbor2024")).toEqual([])
  })

  it("nistSingleFactor asks for 15 characters", () => {
    expect(PasswordPolicy.presets["nist-single-factor"]).toBe(PasswordPolicy.nistSingleFactor)
    expect(reasons("purple-monkey-d", PasswordPolicy.nistSingleFactor)).toEqual([])
    expect(reasons("purple-monkey-", PasswordPolicy.nistSingleFactor)).toEqual(["too-short"])
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
