import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Username from "../src/Username.js"

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
})
