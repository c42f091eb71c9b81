import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Username from "../../src/Username.js"

const reason = (input: string) =>
  Either.match(Username.validate(input), { onLeft: (e) => e.reason, onRight: () => "valid" })
const key = (input: string) => Either.getOrThrow(Username.validate(input)).key

describe("Username.validate", () => {
  it("accepts 3 to 64 letters or digits in any script", () => {
    for (
      const name of [
        "Alice",
        "bob42",
        "123",
        "Δημήτρης",
        "Müller",
        "नमस्ते",
        "ユーザー",
        "مرحبا",
        "שלום",
        "٣٤٥",
        "a".repeat(64)
      ]
    ) expect(reason(name), name).toBe("valid")
  })

  it("counts code points, not UTF-16 units", () => {
    expect(reason("𝒜".repeat(64))).toBe("valid")
    expect(reason("𝒜".repeat(65))).toBe("too-long")
    expect(reason("𝒜𝒜")).toBe("too-short")
  })

  it("refuses names that are too short or too long", () => {
    expect(reason("")).toBe("too-short")
    expect(reason("ab")).toBe("too-short")
    expect(reason("a".repeat(65))).toBe("too-long")
    expect(reason("a".repeat(1_000_000))).toBe("too-long")
    // Short as typed, but its canonical key would not fit a store's key column (Username.maxKeyLength).
    expect("\uFDFA".normalize("NFKC").length).toBe(18)
    expect(reason("\uFDFA".repeat(42))).toBe("valid")
    expect(reason("\uFDFA".repeat(43))).toBe("too-long")
    expect(reason("\uFDFA".repeat(64))).toBe("too-long")
  })

  it("refuses anything but letters, digits and following combining marks", () => {
    for (
      const name of [
        "al ice",
        "alice_1",
        "a-lice",
        "a.lice",
        "alice\n",
        " alice",
        "ali\u0000ce",
        "ali\u200bce",
        "ali\u202ece",
        "abc\uD800",
        "\u0301abc",
        "alice😀",
        "<script>"
      ]
    ) expect(reason(name), JSON.stringify(name)).toBe("invalid-characters")
  })

  it("displays the name as typed (NFC) and compares it case-insensitively", () => {
    expect(Either.getOrThrow(Username.validate("Jose\u0301"))).toEqual({ display: "Jos\u00e9", key: "jos\u00e9" })
    expect(key("ALICE")).toBe(key("alice"))
    expect(key("Straße")).toBe(key("STRASSE"))
    expect(key("ﬁsh")).toBe(key("fish"))
    expect(key("ＡＬＩＣＥ")).toBe(key("alice"))
    expect(key("Jose\u0301")).toBe(key("JOS\u00c9"))
    expect(key("alice")).not.toBe(key("alicf"))
  })

  it("refuses code points that show nothing (PRECIS): the issue's look-alikes of alice", () => {
    for (
      const name of [
        "alice\u034F",
        "alice\uFE00",
        "alice\uFE0F",
        "alice\u180B",
        "alice\u{E0100}",
        "alice\u3164",
        "\u3164\u3164\u3164",
        "\u115F\u1160abc",
        "ali\u2060ce",
        "ali\u00ADce",
        "a\u1100\u1161\u11A8bc".normalize("NFD").replace("\uAC01", "") + "\u1100"
      ]
    ) expect(reason(name), JSON.stringify(name)).toBe("invalid-characters")
    // Unassigned today (Unicode 17): refused until Node's Unicode data assigns it.
    expect(reason("abc\u{2FFFD}")).toBe("invalid-characters")
  })

  it("refuses mixed scripts (UTS #39 Highly Restrictive) and keeps single-script names of any script", () => {
    for (const name of ["\u0430lice", "p\u0430ypal", "\u0391lice", "al\u0456ce", "abc\u05D0"]) {
      expect(reason(name), JSON.stringify(name)).toBe("mixed-scripts")
    }
    for (
      const name of [
        "алиса",
        "Δημήτρης",
        "山田たろう",
        "ヤマダ太郎",
        "Tanaka山田",
        "김철수kim",
        "ㄅㄆㄇ中文abc",
        "user2024",
        "Ωmega",
        "ελληνικά123"
      ]
    ) expect(reason(name), name).toBe(name === "Ωmega" ? "mixed-scripts" : "valid")
  })

  it("keys look-alikes alike (the confusable skeleton), so a look-alike of a name is that name", () => {
    expect(key("a1ice")).toBe(key("alice"))
    // Judged on the case-folded form: `A1ICE` is `a1ice`, a look-alike of `alice`.
    expect(key("A1ICE")).toBe(key("alice"))
    expect(key("b0b")).toBe(key("bob"))
    expect(key("rnarie")).toBe(key("marie"))
    // A whole-script confusable: every letter Cyrillic, so allowed, but it looks like Latin "aic".
    expect(reason("\u0430\u0456\u0441")).toBe("valid")
    expect(key("\u0430\u0456\u0441")).toBe(key("aic"))
    expect(key("ΑΒΓ")).toBe(key("αβγ"))
    expect(key("alice")).not.toBe(key("alicf"))
    expect(key("алиса")).not.toBe(key("alice"))
  })
})
