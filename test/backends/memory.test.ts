/**
 * The memory store: the behaviour suite (inline and outbox delivery), the throttling suite and the store
 * conformance suite, plus the checks only the memory store allows (its snapshot shows every row).
 *
 * The conformance suite comes last: @effect/vitest's `layer` rebinds the shared `it.effect` to its own runtime and
 * TestClock for every test collected after it, which would leak one clock into the tests above.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Ref } from "effect"
import * as DeterministicRandom from "../../src/DeterministicRandom.js"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import { PasswordHasher } from "../../src/PasswordHasher.js"
import * as PasswordHasherModule from "../../src/PasswordHasher.js"
import * as RecordingEmailSender from "../../src/RecordingEmailSender.js"
import * as UserHarborModule from "../../src/UserHarbor.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { administrationSuite } from "../suites/AdministrationSuite.js"
import { secondFactorsSuite } from "../suites/SecondFactorsSuite.js"
import { conformanceSuite } from "../suites/StoreConformanceSuite.js"
import { throttlingSuite } from "../suites/ThrottlingSuite.js"
import { behaviourSuite } from "../suites/UserHarborSuite.js"
import {
  alice,
  bob,
  lastToken,
  loggedIn,
  loginAs,
  messages,
  newPassword,
  password,
  registerVerified,
  tokenHash
} from "../support/fixtures.js"

behaviourSuite("memory", () => UserHarborTest.layer)
behaviourSuite("memory", () => UserHarborTest.layerOutboxWithStore(MemoryUserStore.layer), "outbox")
throttlingSuite("memory", () => MemoryUserStore.layer)
secondFactorsSuite("memory", () => UserHarborTest.layerWithStore(MemoryUserStore.layer))
administrationSuite("memory", () => MemoryUserStore.layer)

const snapshot = Effect.flatMap(MemoryUserStore.MemoryUserStore, (inspector) => inspector.snapshot)

/** Runs `attempt`, which must fail, and checks that the store and the outbox are exactly as before. */
const changesNothing = <A, E, R>(attempt: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = yield* snapshot
    const sentBefore = yield* messages
    const error = yield* Effect.flip(attempt)
    expect(yield* snapshot).toStrictEqual(before)
    expect(yield* messages).toStrictEqual(sentBefore)
    return error
  })

describe("UserHarbor (memory only)", () => {
  it.effect("every failing call leaves the store exactly as it was", () =>
    Effect.gen(function*() {
      const h = yield* UserHarbor
      const session = yield* loggedIn(alice)
      yield* registerVerified(bob)
      yield* h.sendPasswordReset(alice.email)
      const reset = yield* lastToken("PasswordResetEmail", alice.email)
      const failing: ReadonlyArray<Effect.Effect<unknown, unknown>> = [
        h.register({ ...alice, username: "x" }),
        h.register({ ...alice, email: "nope" }),
        h.register({ username: "Carol", email: "carol@example.com", password: "password" }),
        h.register({ ...bob, username: "ALICE", email: "carol@example.com" }),
        h.verifyEmail("garbage"),
        h.verifyEmail(reset),
        h.login({ username: "Alice", password: "wrong-password-here" }),
        h.login({ username: "Nobody", password }),
        h.login({ email: "nobody@example.com", password }),
        h.getCurrentUser("A".repeat(43)),
        h.logout("garbage"),
        h.logoutAll("garbage"),
        h.changePassword({ sessionToken: "garbage", oldPassword: password, newPassword }),
        h.changePassword({ sessionToken: session.token, oldPassword: "wrong-password-here", newPassword }),
        h.changePassword({ sessionToken: session.token, oldPassword: password, newPassword: "short" }),
        h.resetPassword({ token: "garbage", newPassword }),
        h.resetPassword({ token: reset, newPassword: "short" }),
        h.resetPassword({ token: reset, newPassword: "Alice@Example.com" }),
        h.deleteAccount({ sessionToken: session.token, password: "wrong-password-here" }),
        h.deleteAccount({ sessionToken: "garbage", password })
      ]
      for (const attempt of failing) yield* changesNothing(attempt)
    }).pipe(Effect.provide(UserHarborTest.layer)))

  it.effect("a registration whose mail fails keeps the committed user and token, and sends nothing", () =>
    Effect.gen(function*() {
      const h = yield* UserHarbor
      const recorder = yield* RecordingEmailSender.RecordingEmailSender
      yield* recorder.setFailing(true)
      yield* Effect.flip(h.register(alice))
      const state = yield* snapshot
      expect(state.users.map((u) => u.username)).toEqual(["Alice"])
      expect(state.tokens.map((t) => t.purpose)).toEqual(["verify-email"])
      expect(yield* recorder.messages).toEqual([])
    }).pipe(Effect.provide(UserHarborTest.layer)))

  it.effect("stores tokens and sessions only as HMAC-SHA256 hex of the raw token", () =>
    Effect.gen(function*() {
      const h = yield* UserHarbor
      yield* h.register(alice)
      const verification = yield* lastToken("VerificationEmail", alice.email)
      expect((yield* snapshot).tokens.map((t) => t.tokenHash)).toEqual([tokenHash(verification)])
      yield* h.verifyEmail(verification)
      const session = yield* loginAs(alice)
      const state = yield* snapshot
      expect(state.sessions.map((s) => s.tokenHash)).toEqual([tokenHash(session.token)])
      expect(state.sessions[0]?.tokenHash).toMatch(/^[0-9a-f]{64}$/)
      const dump = JSON.stringify(state)
      expect(dump).not.toContain(verification)
      expect(dump).not.toContain(password)
    }).pipe(Effect.provide(UserHarborTest.layer)))

  it.effect("a failed login creates no session, and an expired verification leaves no token", () =>
    Effect.gen(function*() {
      const h = yield* UserHarbor
      yield* h.register(alice)
      yield* Effect.flip(loginAs(alice)) // EmailNotVerified
      expect((yield* snapshot).sessions).toEqual([])
    }).pipe(Effect.provide(UserHarborTest.layer)))

  it.effect("deleteAccount leaves no row of the user behind", () =>
    Effect.gen(function*() {
      const h = yield* UserHarbor
      const session = yield* loggedIn(alice)
      yield* loginAs(alice)
      yield* h.sendPasswordReset(alice.email)
      yield* h.resendVerification(alice.email) // verified: no token
      yield* h.deleteAccount({ sessionToken: session.token, password })
      expect(yield* snapshot).toStrictEqual({ users: [], sessions: [], tokens: [], outbox: [] })
    }).pipe(Effect.provide(UserHarborTest.layer)))

  // The hasher is wrapped to count argon2 verifications, so the test sees the work each login does.
  const countingLayer = Effect.gen(function*() {
    const count = yield* Ref.make(0)
    const inner = yield* PasswordHasher
    const counting = PasswordHasher.of({
      ...inner,
      verify: (pw, hash) => Effect.zipRight(Ref.update(count, (n) => n + 1), inner.verify(pw, hash))
    })
    return { count, counting }
  })

  it.effect("an unknown user costs the same argon2 verification as a wrong password", () =>
    Effect.gen(function*() {
      const { count, counting } = yield* countingLayer.pipe(
        Effect.provide(PasswordHasherModule.layerInsecureForTesting)
      )
      const kit = UserHarborModule.layer.pipe(
        Layer.provideMerge(Layer.mergeAll(
          MemoryUserStore.layer,
          RecordingEmailSender.layer,
          DeterministicRandom.layer(),
          Layer.succeed(PasswordHasher, counting),
          UserHarborConfig.layer({ secretKey: UserHarborTest.testSecretKey }).pipe(Layer.orDie)
        ))
      )
      yield* Effect.gen(function*() {
        const h = yield* UserHarbor
        yield* registerVerified(alice)
        const attempts: ReadonlyArray<Effect.Effect<unknown, unknown>> = [
          h.login({ username: "Alice", password: "wrong-password-here" }),
          h.login({ username: "Nobody", password }),
          h.login({ email: "nobody@example.com", password }),
          h.login({ username: "?", password }),
          h.login({ username: "Alice", password: "\uDC00" })
        ]
        for (const attempt of attempts) {
          yield* Ref.set(count, 0)
          yield* Effect.flip(attempt)
          expect(yield* Ref.get(count)).toBe(1)
        }
      }).pipe(Effect.provide(kit))
    }))
})

describe("UserHarbor with a bounded hasher (memory)", () => {
  it.effect("10 concurrent logins with 1 permit and a queue of 2: some Busy, the rest proceed, no defect", () =>
    Effect.gen(function*() {
      const inner = yield* Effect.provide(PasswordHasher, PasswordHasherModule.layerInsecureForTesting)
      const bounded = yield* PasswordHasherModule.bounded(inner, { permits: 1, maxQueue: 2 })
      const hasher = Layer.succeed(PasswordHasher, bounded)
      const kit = UserHarborTest.layerWithStore(MemoryUserStore.layer, {}, hasher)
      yield* Effect.gen(function*() {
        const users = Array.from({ length: 10 }, (_, i) => ({
          ...alice,
          username: `User${i}`,
          email: `user${i}@example.com`
        }))
        for (const user of users) yield* registerVerified(user)
        const h = yield* UserHarbor
        const exits = yield* Effect.all(
          users.map((user, i) =>
            Effect.exit(h.login({ username: user.username, password: i % 2 === 0 ? password : "wrong-password-here" }))
          ),
          { concurrency: "unbounded" }
        )
        const outcomes = exits.map((exit) =>
          Exit.isSuccess(exit) ? "ok" : Cause.isFailType(exit.cause) ? exit.cause.error._tag : Cause.pretty(exit.cause)
        )
        expect(outcomes.filter((o) => o === "Busy").length).toBeGreaterThan(0)
        expect(outcomes.filter((o) => o !== "Busy").length).toBeGreaterThanOrEqual(3)
        expect(outcomes.every((o) => ["ok", "InvalidCredentials", "Busy"].includes(o))).toBe(true)
      }).pipe(Effect.provide(kit))
    }))
})

conformanceSuite("memory", MemoryUserStore.layer)
