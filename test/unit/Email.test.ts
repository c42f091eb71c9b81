import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Email from "../../src/Email.js"
import { InvalidEmail } from "../../src/Errors.js"

const reason = (input: string) =>
  Either.match(Email.validate(input), { onLeft: (e) => e.reason, onRight: () => "valid" })

// 64 + 1 + 189 = 254 characters, every label within 63
const longDomain = (lastLabel: number) => `${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(lastLabel)}.com`

describe("Email.validate", () => {
  it("accepts plain, plus-addressed, internationalised and punycode addresses", () => {
    for (
      const address of [
        "alice@example.com",
        "alice+newsletter@example.com",
        "first.last@sub.example.co.uk",
        "o'brien@example.ie",
        "josé@exämple.com",
        "用户@例子.广告",
        "пользователь@пример.рф",
        "user@xn--bcher-kva.example",
        "user@example.xn--p1ai",
        "1234@123.example"
      ]
    ) expect(reason(address), address).toBe("valid")
  })

  it("trims, NFC-normalises, and keys case-insensitively while keeping the address as typed", () => {
    const valid = Either.getOrThrow(Email.validate("  Alice@Example.COM  "))
    expect(valid).toEqual({ address: "Alice@Example.COM", key: "alice@example.com" })
    const decomposed = Either.getOrThrow(Email.validate("jose\u0301@example.com"))
    expect(decomposed.address).toBe("jos\u00e9@example.com")
    expect(decomposed.key).toBe(Either.getOrThrow(Email.validate("JOS\u00c9@EXAMPLE.COM")).key)
  })

  it("refuses control characters anywhere, a trailing newline included", () => {
    for (
      const address of [
        "alice@example.com\n",
        "alice@example.com\r\n",
        "\nalice@example.com",
        "alice@example.com\t",
        "ali\u0000ce@example.com",
        "alice@exam\u007fple.com",
        "alice@example.com\u0085",
        "alice@example.com\nBcc: victim@example.com"
      ]
    ) {
      expect(Email.validate(address), JSON.stringify(address)).toStrictEqual(
        Either.left(new InvalidEmail({ reason: "invalid-format" }))
      )
    }
  })

  it("refuses spaces and quoted local parts", () => {
    for (
      const address of ["al ice@example.com", "alice@exam ple.com", "\"al ice\"@example.com", "alice @example.com"]
    ) {
      expect(reason(address), address).toBe("invalid-format")
    }
  })

  it("refuses empty input", () => {
    expect(reason("")).toBe("empty")
    expect(reason("   ")).toBe("empty")
  })

  it("refuses malformed local parts", () => {
    for (
      const address of [
        "@example.com",
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a@b@example.com",
        "a(b)@example.com"
      ]
    ) {
      expect(reason(address), address).toBe("invalid-format")
    }
  })

  it("refuses bad domains", () => {
    for (
      const address of [
        "alice@localhost",
        "alice@-example.com",
        "alice@example-.com",
        "alice@example..com",
        "alice@.example.com",
        "alice@example.com.",
        "alice@example.c",
        "alice@example.123",
        "alice@[127.0.0.1]",
        "alice@127.0.0.1",
        "alice@exa_mple.com",
        "alice@",
        "alice",
        `alice@${"x".repeat(64)}.com`
      ]
    ) expect(reason(address), address).toBe("invalid-format")
  })

  it("allows 254 characters and a 64-character local part, and no more", () => {
    const local = "a".repeat(64)
    expect(`${local}@${longDomain(57)}`).toHaveLength(254)
    expect(reason(`${local}@${longDomain(57)}`)).toBe("valid")
    expect(reason(`${local}@${longDomain(58)}`)).toBe("too-long")
    expect(reason(`${"a".repeat(65)}@example.com`)).toBe("local-part-too-long")
    expect(reason("a".repeat(100_000))).toBe("too-long")
  })
})
