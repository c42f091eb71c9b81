/**
 * Second factors through the public API (TOTP enrolment, recovery codes, the two-step login), parametrised by the
 * store so the same cases run on the memory store and on SQL backends. The test plays the authenticator app: it
 * computes codes with `otpauth` from the secret the enrolment returned, at the `TestClock`'s time.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, type Layer, Option, Redacted, TestClock } from "effect"
import { Secret, TOTP } from "otpauth"
import {
  InvalidChallenge,
  InvalidCode,
  InvalidCredentials,
  TooManyAttempts,
  TotpAlreadyEnabled,
  TotpNotEnabled
} from "../../src/Errors.js"
import { FactorStore } from "../../src/FactorStore.js"
import * as PurgeSchedule from "../../src/PurgeSchedule.js"
import type { Session } from "../../src/User.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import type * as UserHarborTest from "../../src/UserHarborTest.js"
import { UserStore } from "../../src/UserStore.js"
import {
  alice,
  bob,
  lastToken,
  loggedIn,
  newPassword,
  password,
  registerVerified,
  storedUser
} from "../support/fixtures.js"

/** 2026-01-01T00:00:00Z, a step boundary: steps are 30 s from the epoch. */
const start = Date.UTC(2026, 0, 1)
const step = 30_000

/** The authenticator app's code for `secret` at `at` (default: now on the `TestClock`). */
const codeAt = (secret: Redacted.Redacted<string>, at?: number) =>
  Effect.map(
    at === undefined ? Effect.clockWith((clock) => clock.currentTimeMillis) : Effect.succeed(at),
    (timestamp) => TOTP.generate({ secret: Secret.fromBase32(Redacted.value(secret)), timestamp })
  )

const failure = <A, E>(effect: Effect.Effect<A, E, UserHarbor>) =>
  Effect.flatMap(
    Effect.exit(effect),
    (exit) => Exit.isFailure(exit) ? Effect.succeed(exit.cause) : Effect.dieMessage("expected a failure")
  )

const expectFailure = <A, E, R>(effect: Effect.Effect<A, E, R>, expected: unknown) =>
  Effect.map(Effect.flip(effect), (error) => expect(error).toEqual(expected))

/** The second step with the authenticator's current code. */
const completeNow = (challenge: Redacted.Redacted<string>, secret: Redacted.Redacted<string>) =>
  Effect.flatMap(codeAt(secret), (code) => Effect.flatMap(UserHarbor, (h) => h.completeLogin({ challenge, code })))

/** Alice signed in with TOTP active: her session, the secret and her recovery codes. */
const enrolled = Effect.gen(function*() {
  const h = yield* UserHarbor
  const session = yield* loggedIn(alice)
  const enrollment = yield* h.beginTotpEnrollment({ sessionToken: session.token, password })
  const recoveryCodes = yield* h.confirmTotpEnrollment({
    sessionToken: session.token,
    code: yield* codeAt(enrollment.secret)
  })
  return { session, secret: enrollment.secret, uri: enrollment.uri, recoveryCodes }
})

/** Alice's password step: the challenge of `SecondFactorRequired`. */
const passwordStep = Effect.gen(function*() {
  const h = yield* UserHarbor
  const error = yield* Effect.flip(h.login({ username: alice.username, password }))
  if (error._tag !== "SecondFactorRequired") {
    return yield* Effect.dieMessage(`expected SecondFactorRequired: ${error._tag}`)
  }
  return error.challenge
})

/** Enrolled, one step later, past the password step: the challenge, a right and a wrong code. */
const nextStepLogin = Effect.gen(function*() {
  const { secret } = yield* enrolled
  yield* TestClock.adjust(step)
  const challenge = yield* passwordStep
  const right = yield* codeAt(secret)
  return { secret, challenge, right, wrong: right === "000000" ? "000001" : "000000" }
})

export const secondFactorsSuite = <E>(
  name: string,
  makeLayer: () => Layer.Layer<UserHarborTest.StoreServices | FactorStore, E>
) =>
  describe(`second factors (${name})`, () => {
    const test = <A, E2>(
      title: string,
      body: () => Effect.Effect<A, E2, UserHarborTest.StoreServices | FactorStore>
    ) => it.effect(title, () => Effect.provide(Effect.zipRight(TestClock.setTime(start), body()), makeLayer()))

    test("full flow: register, verify, log in, enrol, log out, log in: SecondFactorRequired, completeLogin", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        yield* h.register(alice)
        yield* h.verifyEmail(yield* lastToken("VerificationEmail", alice.email))
        const first = yield* h.login({ username: alice.username, password })
        const enrollment = yield* h.beginTotpEnrollment({ sessionToken: first.token, password })
        const uri = Redacted.value(enrollment.uri)
        expect(uri).toMatch(/^otpauth:\/\/totp\/UserHarbor:Alice\?/)
        expect(uri).toContain(`secret=${Redacted.value(enrollment.secret)}`)
        expect(uri).toContain("issuer=UserHarbor")
        expect(uri).toContain("digits=6")
        expect(uri).toContain("period=30")
        expect(Redacted.value(enrollment.secret)).toMatch(/^[A-Z2-7]{32}$/)
        expect(yield* h.listFactors(first.token)).toEqual([])
        const codes = yield* h.confirmTotpEnrollment({
          sessionToken: first.token,
          code: yield* codeAt(enrollment.secret)
        })
        expect(codes).toHaveLength(10)
        for (const code of codes) expect(Redacted.value(code)).toMatch(/^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/)
        expect(new Set(codes.map(Redacted.value)).size).toBe(10)
        expect(yield* h.listFactors(first.token)).toEqual([
          { kind: "totp", enabledAt: new Date(start) },
          { kind: "recovery-codes", remaining: 10 }
        ])
        yield* h.logout(first.token)

        yield* TestClock.adjust(step)
        const failed = yield* Effect.flip(h.login({ username: alice.username, password }))
        expect(failed._tag).toBe("SecondFactorRequired")
        if (failed._tag !== "SecondFactorRequired") return
        expect(failed.expiresAt).toEqual(new Date(start + step + 5 * 60_000))
        expect(String(failed)).not.toContain(Redacted.value(failed.challenge))
        const session = yield* h.completeLogin({
          challenge: failed.challenge,
          code: yield* codeAt(enrollment.secret)
        })
        const user = yield* h.getCurrentUser(session.token)
        expect(user.username).toBe("Alice")
      }))

    test("completeLogin keeps the client details it is given with the session it creates", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { challenge, right } = yield* nextStepLogin
        const userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
        const session = yield* h.completeLogin({ challenge, code: right, client: { userAgent, address: "192.0.2.44" } })
        const listed = (yield* h.listSessions(session.token)).find((summary) => summary.current)
        expect(listed?.device).toEqual({
          label: "Firefox on Linux",
          userAgent: Option.some(userAgent),
          address: Option.some("192.0.2.0/24")
        })
      }))

    test("an account without a second factor logs in as before", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const session = yield* loggedIn(alice)
        expect(yield* h.listFactors(session.token)).toEqual([])
        // A pending enrolment is not a factor yet.
        yield* h.beginTotpEnrollment({ sessionToken: session.token, password })
        const again = yield* h.login({ username: alice.username, password })
        expect((yield* h.getCurrentUser(again.token)).username).toBe("Alice")
      }))

    test("the secret is stored sealed, bound to its user; recovery codes only as HMACs", () =>
      Effect.gen(function*() {
        const { recoveryCodes, secret } = yield* enrolled
        const user = yield* Effect.flatten(storedUser(alice.email))
        const factors = yield* FactorStore
        const stored = yield* Effect.flatten(factors.findTotp(user.id))
        expect(stored.secret.startsWith("v1.")).toBe(true)
        expect(stored.secret).not.toContain(Redacted.value(secret))
        expect(stored.active).toBe(true)
        // The stored row copied to another user does not open there: that user's login finds no usable factor.
        yield* registerVerified(bob)
        const bobUser = yield* Effect.flatten(storedUser(bob.email))
        yield* factors.putPendingTotp({ userId: bobUser.id, secret: stored.secret, createdAt: start })
        const h = yield* UserHarbor
        const bobSession = yield* h.login({ username: bob.username, password: bob.password })
        const confirm = h.confirmTotpEnrollment({ sessionToken: bobSession.token, code: yield* codeAt(secret) })
        const cause = yield* failure(confirm)
        expect(String(cause)).toContain("does not open")
        expect(yield* factors.countRecoveryCodes(user.id)).toBe(recoveryCodes.length)
      }))

    test("a code is accepted once: replay refused, the next step's code accepted", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { secret } = yield* enrolled
        yield* TestClock.adjust(step)
        const code = yield* codeAt(secret)
        yield* h.completeLogin({ challenge: yield* passwordStep, code })
        // The same code, within its step, on a second login.
        yield* expectFailure(h.completeLogin({ challenge: yield* passwordStep, code }), new InvalidCode())
        // The confirming code (one step back) is older than the last accepted one.
        yield* expectFailure(
          h.completeLogin({ challenge: yield* passwordStep, code: yield* codeAt(secret, start) }),
          new InvalidCode()
        )
        yield* TestClock.adjust(step)
        yield* h.completeLogin({ challenge: yield* passwordStep, code: yield* codeAt(secret) })
      }))

    test("one step of drift either way, not two", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { secret } = yield* enrolled
        yield* TestClock.adjust(10 * step)
        const now = start + 10 * step
        yield* expectFailure(
          h.completeLogin({ challenge: yield* passwordStep, code: yield* codeAt(secret, now - 2 * step) }),
          new InvalidCode()
        )
        yield* expectFailure(
          h.completeLogin({ challenge: yield* passwordStep, code: yield* codeAt(secret, now + 2 * step) }),
          new InvalidCode()
        )
        yield* h.completeLogin({ challenge: yield* passwordStep, code: yield* codeAt(secret, now - step) })
        yield* h.completeLogin({ challenge: yield* passwordStep, code: yield* codeAt(secret, now + step) })
        // The clock's own step is behind the last accepted one now.
        yield* expectFailure(
          h.completeLogin({ challenge: yield* passwordStep, code: yield* codeAt(secret, now) }),
          new InvalidCode()
        )
      }))

    test("a wrong code keeps the challenge; a used challenge is unknown; malformed input is typed", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { challenge, right, wrong } = yield* nextStepLogin
        yield* expectFailure(h.completeLogin({ challenge, code: wrong }), new InvalidCode())
        yield* expectFailure(h.completeLogin({ challenge, code: "not a code" }), new InvalidCode())
        yield* h.completeLogin({ challenge, code: ` ${right.slice(0, 3)} ${right.slice(3)} ` })
        yield* expectFailure(h.completeLogin({ challenge, code: right }), new InvalidChallenge({ reason: "unknown" }))
        yield* expectFailure(
          h.completeLogin({ challenge: "x".repeat(43), code: right }),
          new InvalidChallenge({ reason: "unknown" })
        )
        yield* expectFailure(
          h.completeLogin({ challenge: "", code: right }),
          new InvalidChallenge({ reason: "unknown" })
        )
      }))

    test("a challenge expires after challengeTtl (5 minutes)", () =>
      Effect.gen(function*() {
        const { secret } = yield* enrolled
        const challenge = yield* passwordStep
        yield* TestClock.adjust("5 minutes")
        yield* expectFailure(completeNow(challenge, secret), new InvalidChallenge({ reason: "expired" }))
        // Gone once found expired.
        yield* expectFailure(completeNow(challenge, secret), new InvalidChallenge({ reason: "unknown" }))
      }))

    test("a password change voids a challenge issued before it", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { secret, session } = yield* enrolled
        const challenge = yield* passwordStep
        yield* h.changePassword({ sessionToken: session.token, oldPassword: password, newPassword })
        yield* TestClock.adjust(step)
        yield* expectFailure(completeNow(challenge, secret), new InvalidChallenge({ reason: "unknown" }))
      }))

    test("recovery codes: each signs in once, any case or separator; regeneration replaces them all", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { recoveryCodes, session } = yield* enrolled
        const [first, second] = recoveryCodes.map(Redacted.value)
        if (first === undefined || second === undefined) return expect.fail("no recovery codes")
        yield* h.completeLogin({ challenge: yield* passwordStep, code: first })
        yield* expectFailure(h.completeLogin({ challenge: yield* passwordStep, code: first }), new InvalidCode())
        yield* h.completeLogin({
          challenge: yield* passwordStep,
          code: Redacted.make(` ${second.replace("-", " ").toUpperCase()} `)
        })
        expect(yield* h.listFactors(session.token)).toContainEqual({ kind: "recovery-codes", remaining: 8 })
        yield* expectFailure(
          h.regenerateRecoveryCodes({ sessionToken: session.token, password: "wrong password!" }),
          new InvalidCredentials()
        )
        const fresh = yield* h.regenerateRecoveryCodes({ sessionToken: session.token, password })
        expect(fresh).toHaveLength(10)
        expect(yield* h.listFactors(session.token)).toContainEqual({ kind: "recovery-codes", remaining: 10 })
        const third = Redacted.value(recoveryCodes[2] ?? Redacted.make(""))
        yield* expectFailure(h.completeLogin({ challenge: yield* passwordStep, code: third }), new InvalidCode())
        yield* h.completeLogin({ challenge: yield* passwordStep, code: fresh[0] ?? "" })
      }))

    test("enrolment: the password is re-checked, the first code confirms, an active factor is not replaced", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const session = yield* loggedIn(alice)
        const sessionToken = session.token
        yield* expectFailure(
          h.confirmTotpEnrollment({ sessionToken, code: "123456" }),
          new TotpNotEnabled({ reason: "not-pending" })
        )
        yield* expectFailure(
          h.beginTotpEnrollment({ sessionToken, password: "not her password" }),
          new InvalidCredentials()
        )
        const abandoned = yield* h.beginTotpEnrollment({ sessionToken, password })
        // A restart replaces the pending secret: the first one's codes no longer confirm.
        const enrollment = yield* h.beginTotpEnrollment({ sessionToken, password })
        expect(Redacted.value(enrollment.secret)).not.toBe(Redacted.value(abandoned.secret))
        const code = yield* codeAt(enrollment.secret)
        const wrong = code === "000000" ? "000001" : "000000"
        yield* expectFailure(h.confirmTotpEnrollment({ sessionToken, code: wrong }), new InvalidCode())
        yield* expectFailure(h.confirmTotpEnrollment({ sessionToken, code: "12345" }), new InvalidCode())
        const oldCode = yield* codeAt(abandoned.secret)
        if (oldCode !== code) {
          yield* expectFailure(h.confirmTotpEnrollment({ sessionToken, code: oldCode }), new InvalidCode())
        }
        yield* h.confirmTotpEnrollment({ sessionToken, code })
        yield* expectFailure(h.beginTotpEnrollment({ sessionToken, password }), new TotpAlreadyEnabled())
        yield* expectFailure(
          h.confirmTotpEnrollment({ sessionToken, code }),
          new TotpNotEnabled({ reason: "not-pending" })
        )
      }))

    test("disable with the password or a code; then the password alone logs in", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { recoveryCodes, secret, session } = yield* enrolled
        const sessionToken = session.token
        yield* expectFailure(
          h.disableTotp({ sessionToken, password: "not her password" }),
          new InvalidCredentials()
        )
        yield* expectFailure(h.disableTotp({ sessionToken, code: "000000x" }), new InvalidCode())
        yield* h.disableTotp({ sessionToken, code: recoveryCodes[0] ?? "" })
        expect(yield* h.listFactors(sessionToken)).toEqual([])
        yield* expectFailure(h.disableTotp({ sessionToken, password }), new TotpNotEnabled({ reason: "none" }))
        yield* expectFailure(
          h.regenerateRecoveryCodes({ sessionToken, password }),
          new TotpNotEnabled({ reason: "none" })
        )
        const plain: Session = yield* h.login({ username: alice.username, password })
        expect((yield* h.getCurrentUser(plain.token)).username).toBe("Alice")

        // Enrol again, disable with the password.
        const again = yield* h.beginTotpEnrollment({ sessionToken, password })
        yield* TestClock.adjust(step)
        yield* h.confirmTotpEnrollment({ sessionToken, code: yield* codeAt(again.secret) })
        expect(Redacted.value(again.secret)).not.toBe(Redacted.value(secret))
        yield* h.disableTotp({ sessionToken, password })
        yield* h.login({ username: alice.username, password })
      }))

    test("wrong codes are throttled per account: TooManyAttempts after five failures", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { challenge, right, secret, wrong } = yield* nextStepLogin
        for (let i = 0; i < 5; i++) {
          yield* expectFailure(h.completeLogin({ challenge, code: wrong }), new InvalidCode())
        }
        const refused = yield* Effect.flip(h.completeLogin({ challenge, code: right }))
        expect(refused).toBeInstanceOf(TooManyAttempts)
        // Logging in with the password again buys no fresh guesses.
        const other = yield* passwordStep
        expect(yield* Effect.flip(h.completeLogin({ challenge: other, code: right }))).toBeInstanceOf(TooManyAttempts)
        yield* TestClock.adjust("1 minute")
        yield* h.completeLogin({ challenge, code: yield* codeAt(secret) })
      }))

    test("two completions of one challenge racing with two valid codes: one session", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { recoveryCodes, secret } = yield* enrolled
        yield* TestClock.adjust(step)
        const challenge = yield* passwordStep
        const results = yield* Effect.all([
          Effect.either(h.completeLogin({ challenge, code: yield* codeAt(secret) })),
          Effect.either(h.completeLogin({ challenge, code: recoveryCodes[0] ?? "" }))
        ], { concurrency: "unbounded" })
        expect(results.filter((r) => r._tag === "Right")).toHaveLength(1)
      }))

    test("PurgeSchedule removes expired login challenges", () =>
      Effect.gen(function*() {
        const { secret } = yield* enrolled
        const expired = yield* passwordStep
        yield* TestClock.adjust("4 minutes")
        const live = yield* passwordStep
        yield* TestClock.adjust("1 minute")
        expect(yield* PurgeSchedule.purgeAll()).toBe(1)
        yield* expectFailure(completeNow(expired, secret), new InvalidChallenge({ reason: "unknown" }))
        yield* completeNow(live, secret)
      }))

    test("deleting the account removes its factor", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { session } = yield* enrolled
        const user = yield* Effect.flatten(storedUser(alice.email))
        yield* h.deleteAccount({ sessionToken: session.token, password })
        const factors = yield* FactorStore
        expect(Option.isNone(yield* factors.findTotp(user.id))).toBe(true)
        expect(yield* factors.countRecoveryCodes(user.id)).toBe(0)
        expect(Option.isNone(yield* Effect.flatMap(UserStore, (store) => store.findUserById(user.id)))).toBe(true)
      }))
  })
