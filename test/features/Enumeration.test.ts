/**
 * Account enumeration, on the SQLite store with the outbox on: for each pair of requests an attacker can compare
 * (an unknown account against a known one), the answer is the same value and both do the same work: the same
 * password hasher calls, the same number of transactions and statements, and one sealed outbox row each (a decoy
 * for the unknown account). Timing itself is measured by `bench/enumeration.ts`, since it is too noisy for CI.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option, Redacted } from "effect"
import * as OutboxWorker from "../../src/OutboxWorker.js"
import * as PasswordHasher from "../../src/PasswordHasher.js"
import * as RecordingEmailSender from "../../src/RecordingEmailSender.js"
import * as SecureRandom from "../../src/SecureRandom.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import * as UserHarbor from "../../src/UserHarbor.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import { testSecretKey } from "../../src/UserHarborTest.js"
import * as Instrumented from "../support/InstrumentedStore.js"

const password = "Correct-Horse-Battery-9"

const kitFor = (enumeration: UserHarborConfig.Enumeration) =>
  // Fresh: `it.layer` memoises layers by reference across blocks, and the two kits differ only in their config.
  Layer.fresh(UserHarbor.layerOutbox).pipe(Layer.provideMerge(Layer.mergeAll(
    RecordingEmailSender.layer,
    SecureRandom.layer,
    UserHarborConfig.layer({ secretKey: testSecretKey, enumeration }).pipe(Layer.orDie),
    Instrumented.layer.pipe(Layer.provide(Layer.merge(
      SqliteUserStore.layer({ filename: ":memory:" }).pipe(Layer.orDie),
      PasswordHasher.layerInsecureForTesting
    )))
  )))
const kit = kitFor("standard")

// What one call returned and what work it did.
const profile = <A, E, R>(call: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const instruments = yield* Instrumented.Instruments
    yield* instruments.reset
    const exit = yield* Effect.exit(call)
    const counts = yield* instruments.counts
    return {
      result: Exit.match(exit, {
        onFailure: (cause) => ({ failure: cause.toJSON() }),
        onSuccess: (value) => ({ value })
      }),
      hasher: yield* instruments.hasherCalls,
      transactions: counts.transactions,
      statements: counts.statements.length,
      queued: counts.statements.filter((name) => name === "enqueueEmail").length
    }
  })

const same = <A, E, R>(what: string, unknown: Effect.Effect<A, E, R>, known: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const a = yield* profile(unknown)
    const b = yield* profile(known)
    assert.deepStrictEqual(a, b, what)
    return a
  })

describe("enumeration resistance (SQLite, outbox)", () => {
  it.layer(kit)((it) => {
    it.effect("login: an unknown user and a wrong password get the same error after the same argon2 work", () =>
      Effect.gen(function*() {
        const harbor = yield* UserHarbor.UserHarborOutbox
        yield* harbor.register({ username: "known1", email: "known1@example.com", password })
        const work = yield* same(
          "login",
          harbor.login({ username: "nobody1", password: "Wrong-Password-123" }),
          harbor.login({ username: "known1", password: "Wrong-Password-123" })
        )
        assert.deepStrictEqual(work.hasher, ["verify"])
        assert.deepInclude(JSON.stringify(work.result), "InvalidCredentials")
        const byEmail = yield* same(
          "login by email",
          harbor.login({ email: "nobody1@example.com", password: "Wrong-Password-123" }),
          harbor.login({ email: "known1@example.com", password: "Wrong-Password-123" })
        )
        assert.deepStrictEqual(byEmail.hasher, ["verify"])
      }))

    it.effect("login checks unknown users against a dummy hash made with the current parameters", () =>
      Effect.gen(function*() {
        const hasher = yield* PasswordHasher.PasswordHasher
        // The dummy is made by the same hasher when the service is built; a hash it makes now needs no rehash,
        // so the parameters are the current ones (argon2's cost is set by them).
        const fresh = yield* hasher.hash(Redacted.make("any-password-at-all"))
        assert.isFalse(hasher.needsRehash(fresh))
      }))

    it.effect("sendPasswordReset: an unknown and an existing address do the same work and queue one row each", () =>
      Effect.gen(function*() {
        const harbor = yield* UserHarbor.UserHarborOutbox
        yield* harbor.register({ username: "known2", email: "known2@example.com", password })
        const work = yield* same(
          "sendPasswordReset",
          harbor.sendPasswordReset("nobody2@example.com"),
          harbor.sendPasswordReset("known2@example.com")
        )
        assert.deepStrictEqual(work.result, { value: undefined })
        assert.strictEqual(work.queued, 1)
        assert.strictEqual(work.transactions, 1)
      }))

    it.effect("resendVerification: unknown, unverified and verified addresses do the same work", () =>
      Effect.gen(function*() {
        const harbor = yield* UserHarbor.UserHarborOutbox
        const mail = yield* RecordingEmailSender.RecordingEmailSender
        yield* harbor.register({ username: "known3", email: "known3@example.com", password })
        yield* harbor.register({ username: "verified3", email: "verified3@example.com", password })
        const work = yield* same(
          "resendVerification (unknown vs unverified)",
          harbor.resendVerification("nobody3@example.com"),
          harbor.resendVerification("known3@example.com")
        )
        assert.strictEqual(work.queued, 1)
        // Verify the second account through a real delivery, then compare it too.
        yield* Effect.flatMap(OutboxWorker.make(), (worker) => worker.drain)
        const token = Option.getOrThrow(yield* mail.lastToken("VerificationEmail", "verified3@example.com"))
        yield* harbor.verifyEmail(token)
        yield* same(
          "resendVerification (unknown vs verified)",
          harbor.resendVerification("nobody3@example.com"),
          harbor.resendVerification("verified3@example.com")
        )
      }))

    it.effect("register: a taken email and a fresh one get the same answer after the same work", () =>
      Effect.gen(function*() {
        const harbor = yield* UserHarbor.UserHarborOutbox
        yield* harbor.register({ username: "known4", email: "known4@example.com", password })
        const work = yield* same(
          "register",
          harbor.register({ username: "fresh4a", email: "known4@example.com", password }),
          harbor.register({ username: "fresh4b", email: "fresh4@example.com", password })
        )
        assert.deepStrictEqual(work.result, { value: undefined })
        assert.deepStrictEqual(work.hasher, ["hash"])
        assert.strictEqual(work.queued, 1)
      }))
  })
})

describe("enumeration resistance in the strict mode (SQLite, outbox)", () => {
  it.layer(kitFor("strict"))((it) => {
    it.effect("register: a taken email and a fresh one get the same answer after the same work", () =>
      Effect.gen(function*() {
        const harbor = yield* UserHarbor.UserHarborOutbox
        yield* harbor.register({ username: "known5", email: "known5@example.com", password })
        const work = yield* same(
          "register (strict)",
          harbor.register({ username: "fresh5a", email: "known5@example.com", password }),
          harbor.register({ username: "fresh5b", email: "fresh5@example.com", password })
        )
        assert.deepStrictEqual(work.result, { value: undefined })
        assert.strictEqual(work.queued, 1)
      }))

    it.effect("login with the password chosen at registration: taken and fresh address answer alike, same work", () =>
      Effect.gen(function*() {
        const harbor = yield* UserHarbor.UserHarborOutbox
        yield* harbor.register({ username: "known6", email: "known6@example.com", password })
        const chosen = "The-Probers-Own-Password-6"
        yield* harbor.register({ username: "probe6a", email: "known6@example.com", password: chosen })
        yield* harbor.register({ username: "probe6b", email: "fresh6@example.com", password: chosen })
        const work = yield* same(
          "login (strict)",
          harbor.login({ username: "probe6a", password: chosen }),
          harbor.login({ username: "probe6b", password: chosen })
        )
        assert.deepStrictEqual(work.hasher, ["verify"])
        assert.deepInclude(JSON.stringify(work.result), "InvalidCredentials")
      }))
  })
})
