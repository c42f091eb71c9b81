import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { Secret, TOTP } from "otpauth"
import * as Totp from "../../../src/internal/totp.js"

// RFC 6238 appendix B, SHA-1: the 20-byte ASCII secret "12345678901234567890"; our codes are the last 6 digits.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
const vectors: ReadonlyArray<readonly [seconds: number, code: string]> = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"]
]

describe("TOTP (RFC 6238)", () => {
  it("otpauth gives the RFC 6238 SHA-1 vectors (8 digits)", () => {
    for (const [seconds, code] of vectors) {
      expect(TOTP.generate({ secret: Secret.fromBase32(rfcSecret), digits: 8, timestamp: seconds * 1000 })).toBe(code)
    }
  })

  it.effect("our 6-digit codes match the vectors at the TestClock's time, one step of drift either way", () =>
    Effect.gen(function*() {
      for (const [seconds, code] of vectors) {
        yield* TestClock.setTime(seconds * 1000)
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const six = code.slice(2)
        const step = Math.floor(seconds / 30)
        expect(Totp.stepAt(now)).toBe(step)
        expect(yield* Totp.codeAt(rfcSecret, now)).toBe(six)
        expect(yield* Totp.matchingStep(rfcSecret, six, now)).toBe(step)
        expect(yield* Totp.matchingStep(rfcSecret, six, now + 30_000)).toBe(step)
        expect(yield* Totp.matchingStep(rfcSecret, six, now - 30_000)).toBe(step)
        expect(yield* Totp.matchingStep(rfcSecret, six, now + 60_000)).toBeUndefined()
        expect(yield* Totp.matchingStep(rfcSecret, six, now - 60_000)).toBeUndefined()
      }
    }))

  it("accepts only six digits, spaces allowed", () => {
    expect(Totp.normalizeCode(" 123 456 ")).toBe("123456")
    expect(Totp.normalizeCode("12345")).toBeUndefined()
    expect(Totp.normalizeCode("1234567")).toBeUndefined()
    expect(Totp.normalizeCode("12345a")).toBeUndefined()
    expect(Totp.normalizeCode("١٢٣٤٥٦")).toBeUndefined()
  })

  it.effect("the URI carries the issuer, the label, SHA-1, 6 digits and 30 s", () =>
    Effect.gen(function*() {
      const uri = yield* Totp.uri({ issuer: "Example Shop", label: "jane", secret: rfcSecret })
      expect(uri).toBe(
        `otpauth://totp/Example%20Shop:jane?issuer=Example%20Shop&secret=${rfcSecret}&algorithm=SHA1&digits=6&period=30`
      )
    }))
})
