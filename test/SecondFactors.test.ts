import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted, TestClock } from "effect"
import { Secret, TOTP } from "otpauth"
import { CounterStore } from "../src/CounterStore.js"
import * as Totp from "../src/internal/totp.js"
import * as MemoryUserStore from "../src/MemoryUserStore.js"
import { OutboxStore } from "../src/OutboxStore.js"
import { UserHarbor } from "../src/UserHarbor.js"
import * as UserHarborConfig from "../src/UserHarborConfig.js"
import * as UserHarborTest from "../src/UserHarborTest.js"
import { UserStore } from "../src/UserStore.js"
import { secondFactorsSuite } from "./SecondFactorsSuite.js"
import { alice, loggedIn, password } from "./UserHarborSuite.js"

secondFactorsSuite("memory", () => UserHarborTest.layerWithStore(MemoryUserStore.layer))

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

describe("second factors with a store that provides no FactorStore", () => {
  // A third-party store written before 0.3.0: its three ports only.
  const legacyStore = Layer.effectContext(
    Effect.map(
      MemoryUserStore.make,
      ({ counters, outbox, store }) =>
        Context.make(UserStore, store).pipe(Context.add(CounterStore, counters), Context.add(OutboxStore, outbox))
    )
  )
  const kit = () => UserHarborTest.layerWithStore(legacyStore)

  it.effect("login is unchanged, listFactors is empty, enrolment dies naming the missing port", () =>
    Effect.gen(function*() {
      const h = yield* UserHarbor
      const session = yield* loggedIn(alice)
      expect(yield* h.listFactors(session.token)).toEqual([])
      yield* h.login({ username: alice.username, password })
      const exit = yield* Effect.exit(h.beginTotpEnrollment({ sessionToken: session.token, password }))
      expect(String(exit)).toContain("need a FactorStore")
      const completion = yield* Effect.exit(h.completeLogin({ challenge: "x".repeat(43), code: "123456" }))
      expect(String(completion)).toContain("need a FactorStore")
    }).pipe(Effect.provide(kit())))
})

describe("second-factor settings", () => {
  it.effect("issuer and challenge TTL have defaults and are checked", () =>
    Effect.gen(function*() {
      const secretKey = UserHarborTest.testSecretKey
      const defaults = yield* UserHarborConfig.make({ secretKey })
      expect(defaults.secondFactor.issuer).toBe("UserHarbor")
      expect(defaults.secondFactor.challengeTtl.toJSON()).toEqual({ _id: "Duration", _tag: "Millis", millis: 300_000 })
      for (const issuer of ["", "  ", "a:b", "x".repeat(65)]) {
        const error = yield* Effect.flip(UserHarborConfig.make({ secretKey, secondFactor: { issuer } }))
        expect(String(error)).toContain("secondFactor.issuer")
      }
      const ttl = yield* Effect.flip(UserHarborConfig.make({ secretKey, secondFactor: { challengeTtl: "0 seconds" } }))
      expect(String(ttl)).toContain("secondFactor.challengeTtl")
    }))

  it.effect("the issuer names the app in the URI", () =>
    Effect.gen(function*() {
      const h = yield* UserHarbor
      const session = yield* loggedIn(alice)
      const enrollment = yield* h.beginTotpEnrollment({ sessionToken: session.token, password })
      expect(Redacted.value(enrollment.uri)).toMatch(/^otpauth:\/\/totp\/Example%20Shop:Alice\?issuer=Example%20Shop&/)
    }).pipe(Effect.provide(UserHarborTest.layerWith({ secondFactor: { issuer: "Example Shop" } }))))
})
