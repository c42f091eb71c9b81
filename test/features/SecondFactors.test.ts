/**
 * Second factors across modules: a store without the `FactorStore` port, and the settings as the operations use
 * them. The behaviour itself is `suites/SecondFactorsSuite.ts`, run by every backend.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import * as util from "node:util"
import { Secret, TOTP } from "otpauth"
import { CounterStore } from "../../src/CounterStore.js"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import { OutboxStore } from "../../src/OutboxStore.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { UserStore } from "../../src/UserStore.js"
import { alice, loggedIn, password } from "../support/fixtures.js"
import { recording } from "../support/recordingTracer.js"
import { renderings } from "../support/renderings.js"

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

describe("second-factor secrets", () => {
  it.effect("the secret, URI, recovery codes, challenge and codes appear in no error, value or span", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* recording
      const seen: Array<unknown> = []
      const secrets: Array<string> = []
      yield* Effect.gen(function*() {
        const h = yield* UserHarbor
        const session = yield* loggedIn(alice)
        const enrollment = yield* h.beginTotpEnrollment({ sessionToken: session.token, password })
        // At the TestClock's time (0).
        const code = TOTP.generate({ secret: Secret.fromBase32(Redacted.value(enrollment.secret)), timestamp: 0 })
        secrets.push(Redacted.value(enrollment.secret), Redacted.value(enrollment.uri), code)
        seen.push(enrollment, yield* Effect.flip(h.confirmTotpEnrollment({ sessionToken: session.token, code: "000" })))
        const codes = yield* h.confirmTotpEnrollment({ sessionToken: session.token, code })
        secrets.push(...codes.map(Redacted.value))
        seen.push(codes)
        const required = yield* Effect.flip(h.login({ username: alice.username, password }))
        if (required._tag !== "SecondFactorRequired") return yield* Effect.dieMessage(required._tag)
        secrets.push(Redacted.value(required.challenge))
        seen.push(required, yield* Effect.flip(h.completeLogin({ challenge: required.challenge, code: "999999" })))
        seen.push(yield* h.completeLogin({ challenge: required.challenge, code: codes[0] ?? "" }))
      }).pipe(Effect.withTracer(tracer))
      expect(secrets.length).toBeGreaterThan(10)
      const texts = [
        ...seen.flatMap((value) => renderings(value)),
        ...spans.map((span) => util.inspect(span.attributes, { depth: 10 }))
      ]
      for (const text of texts) {
        for (const secret of secrets) {
          if (text.includes(secret)) expect.fail(`shows a secret: ${text.slice(0, 300)}`)
        }
      }
      expect(spans.map((span) => span.name)).toContain("UserHarbor.completeLogin")
    }).pipe(Effect.provide(UserHarborTest.layer)))
})
