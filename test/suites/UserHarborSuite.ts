/**
 * The behaviour of `UserHarbor`, parametrised by the store, so the same cases run on the memory store and on every
 * SQL backend. `makeLayer` is called once per test and must give a fresh, empty store (the deterministic random
 * source repeats its ids and tokens in every test). "Nothing changed" is checked only through the `UserStore` port
 * and the recording sender, because a SQL store has no snapshot.
 *
 * It runs in either delivery mode. In outbox mode the operations only write messages to the outbox, and the helpers
 * that read what was sent (`lastToken`, `messages`, `clearMessages`) first drain it with an `OutboxWorker`, so the
 * same cases check the same mail; the few cases about a failing mail server have an outbox counterpart.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Equal, Exit, Layer, Option, Redacted, TestClock } from "effect"
import {
  AccountDeletedEmail,
  PasswordChangedEmail,
  PasswordResetEmail,
  RegistrationAttemptEmail,
  VerificationEmail
} from "../../src/EmailSender.js"
import {
  EmailDeliveryError,
  EmailNotVerified,
  InvalidCredentials,
  InvalidEmail,
  InvalidSession,
  InvalidToken,
  InvalidUsername,
  SessionNotFound,
  UsernameTaken,
  WeakPassword
} from "../../src/Errors.js"
import * as PurgeSchedule from "../../src/PurgeSchedule.js"
import type { Session } from "../../src/User.js"
import type { RegisterInput } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import {
  alice,
  bob,
  bobPassword,
  clearMessages,
  deliverPending,
  drainOutbox,
  harbor,
  lastToken,
  loggedIn,
  loginAs,
  messages,
  newPassword,
  password,
  registerVerified,
  setFailing,
  storedSession,
  storedToken,
  storedUser,
  storedUserByName,
  tags,
  tokenHash
} from "../support/fixtures.js"

const hour = Duration.toMillis("1 hour")
// What a session created without client details shows.
const noDevice = { label: "Unknown device", userAgent: Option.none(), address: Option.none() }
const day = Duration.toMillis("1 day")

/**
 * `makeLayer` gives the kit: `UserHarborTest.layerWithStore` inline, `UserHarborTest.layerOutboxWithStore` for
 * `"outbox"` (the suite adds the draining worker).
 */
export const behaviourSuite = <E>(
  name: string,
  makeLayer: () => Layer.Layer<UserHarborTest.StoreServices, E>,
  delivery: "inline" | "outbox" = "inline"
) =>
  describe(`UserHarbor behaviour (${delivery === "inline" ? name : `${name}, outbox`})`, () => {
    const kit = delivery === "inline" ? makeLayer : () => drainOutbox.pipe(Layer.provideMerge(makeLayer()))
    const test = <A, E2>(title: string, body: () => Effect.Effect<A, E2, UserHarborTest.StoreServices>) =>
      it.effect(title, () => Effect.provide(body(), kit()))
    // A failed delivery is retried after 10 s (jittered by at most a fifth), so this is past the first retry.
    const pastFirstRetry = "1 minute"

    describe("register", () => {
      test("stores an unverified user and mails a 43-character verification token after commit", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register({ ...alice, email: "  alice@example.com  " })
          const user = yield* Effect.flatten(storedUser(alice.email))
          expect(user.username).toBe("Alice")
          expect(user.email).toBe("alice@example.com")
          expect(user.verified).toBe(false)
          expect(user.passwordHash.startsWith("$argon2id$")).toBe(true)
          const sent = yield* messages
          expect(tags(sent)).toEqual(["VerificationEmail alice@example.com"])
          const token = yield* lastToken("VerificationEmail", alice.email)
          expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
          const message = sent[0]
          expect(message).toBeInstanceOf(VerificationEmail)
          if (message instanceof VerificationEmail) expect(message.expiresAt.getTime()).toBe(24 * hour)
          expect(Option.isSome(yield* storedToken("verify-email", token))).toBe(true)
        }))

      test("accepts a Redacted password", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register({ ...alice, password: Redacted.make(password) })
          yield* h.verifyEmail(yield* lastToken("VerificationEmail", alice.email))
          yield* h.login({ email: alice.email, password })
        }))

      const invalidCases: ReadonlyArray<readonly [string, RegisterInput, unknown]> = [
        ["a too short username", { ...alice, username: "al" }, new InvalidUsername({ reason: "too-short" })],
        ["a too long username", { ...alice, username: "a".repeat(65) }, new InvalidUsername({ reason: "too-long" })],
        [
          // 64 code points, but NFKC makes each one 18 (1,152): more than any store's key column holds.
          "a username whose canonical form is too long",
          { ...alice, username: "\uFDFA".repeat(64) },
          new InvalidUsername({ reason: "too-long" })
        ],
        [
          "a username with a space",
          { ...alice, username: "al ice" },
          new InvalidUsername({ reason: "invalid-characters" })
        ],
        ["an empty username", { ...alice, username: "" }, new InvalidUsername({ reason: "too-short" })],
        ["an empty email", { ...alice, email: "   " }, new InvalidEmail({ reason: "empty" })],
        [
          "an email without @",
          { ...alice, email: "alice.example.com" },
          new InvalidEmail({ reason: "invalid-format" })
        ],
        [
          "an email with a newline",
          { ...alice, email: "alice@example.com\n" },
          new InvalidEmail({ reason: "invalid-format" })
        ],
        [
          "a single-label domain",
          { ...alice, email: "alice@localhost" },
          new InvalidEmail({ reason: "invalid-format" })
        ],
        ["a short password", { ...alice, password: "short1" }, new WeakPassword({ reasons: ["too-short"] })],
        ["a common password", { ...alice, password: "password123" }, new WeakPassword({ reasons: ["common"] })],
        [
          "the username as password",
          { ...alice, password: "aLiCeAlIcE", username: "AliceAlice" },
          new WeakPassword({ reasons: ["repetitive", "same-as-username", "contains-email"] })
        ],
        [
          "the email as password",
          { ...alice, password: "ALICE@example.com" },
          new WeakPassword({ reasons: ["contains-username", "same-as-email"] })
        ]
      ]
      for (const [what, input, expected] of invalidCases) {
        test(`refuses ${what}, writing and sending nothing`, () =>
          Effect.gen(function*() {
            const h = yield* harbor
            const error = yield* Effect.flip(h.register(input))
            expect(error).toStrictEqual(expected)
            expect(yield* storedUser(input.email.trim())).toEqual(Option.none())
            expect(yield* storedUser(alice.email)).toEqual(Option.none())
            expect(yield* storedUserByName(input.username)).toEqual(Option.none())
            expect(yield* messages).toEqual([])
          }))
      }

      test("validates username, then email, then password: the first failure wins", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const all = { username: "x", email: "nope", password: "weak" }
          expect(yield* Effect.flip(h.register(all))).toStrictEqual(new InvalidUsername({ reason: "too-short" }))
          expect(yield* Effect.flip(h.register({ ...all, username: "Carol" }))).toStrictEqual(
            new InvalidEmail({ reason: "invalid-format" })
          )
          expect(yield* Effect.flip(h.register({ ...all, username: "Carol", email: "carol@example.com" })))
            .toStrictEqual(new WeakPassword({ reasons: ["too-short", "too-few-distinct"] }))
          expect(yield* storedUserByName("Carol")).toEqual(Option.none())
          expect(yield* messages).toEqual([])
        }))

      test("refuses a username taken in other letter case, keeping the first account", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          const before = yield* storedUser(alice.email)
          const error = yield* Effect.flip(h.register({ ...bob, username: "ALICE" }))
          expect(error).toStrictEqual(new UsernameTaken())
          expect(yield* storedUser(bob.email)).toEqual(Option.none())
          expect(yield* storedUser(alice.email)).toStrictEqual(before)
          expect(tags(yield* messages)).toEqual(["VerificationEmail alice@example.com"])
        }))

      test("refuses every look-alike of a taken name: invisible code points, mixed scripts, confusables", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          const lookAlikes: ReadonlyArray<readonly [string, unknown]> = [
            ["Alice\u034F", new InvalidUsername({ reason: "invalid-characters" })],
            ["Alice\uFE00", new InvalidUsername({ reason: "invalid-characters" })],
            ["Alice\uFE0F", new InvalidUsername({ reason: "invalid-characters" })],
            ["Alice\u180B", new InvalidUsername({ reason: "invalid-characters" })],
            ["Alice\u{E0100}", new InvalidUsername({ reason: "invalid-characters" })],
            ["Alice\u3164", new InvalidUsername({ reason: "invalid-characters" })],
            ["\u3164\u3164\u3164", new InvalidUsername({ reason: "invalid-characters" })],
            ["\u0430lice", new InvalidUsername({ reason: "mixed-scripts" })],
            ["A1ice", new UsernameTaken()],
            ["A1ICE", new UsernameTaken()]
          ]
          for (const [username, expected] of lookAlikes) {
            const error = yield* Effect.flip(h.register({ ...bob, username }))
            expect(error, JSON.stringify(username)).toStrictEqual(expected)
          }
          expect(yield* storedUser(bob.email)).toEqual(Option.none())
          // Names in one other script are their own names; a whole-script look-alike of one is taken.
          yield* h.register({ ...bob, username: "\u0430\u0456\u0441" })
          const error = yield* Effect.flip(h.register({ ...alice, email: "aic@example.com", username: "aic" }))
          expect(error).toStrictEqual(new UsernameTaken())
          yield* h.register({ username: "Δημήτρης", email: "d@example.com", password })
          yield* h.register({ username: "山田たろう", email: "y@example.com", password })
          yield* h.register({ username: "алиса", email: "a@example.com", password })
          expect(Option.isSome(yield* storedUserByName("Δημήτρης"))).toBe(true)
          expect(Option.isSome(yield* storedUserByName("алиса"))).toBe(true)
          yield* h.verifyEmail(yield* lastToken("VerificationEmail", alice.email))
          yield* h.login({ username: "ALICE", password })
        }))

      test("answers a taken email like a new one, creates nothing and tells the owner", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* registerVerified(alice)
          const before = yield* storedUser(alice.email)
          yield* clearMessages
          const result = yield* Effect.exit(h.register({ ...bob, email: "ALICE@Example.com" }))
          expect(result).toStrictEqual(Exit.void)
          expect(yield* storedUserByName(bob.username)).toEqual(Option.none())
          expect(yield* storedUser(alice.email)).toStrictEqual(before)
          const sent = yield* messages
          expect(sent).toHaveLength(1)
          expect(sent[0]).toBeInstanceOf(RegistrationAttemptEmail)
          expect(sent[0]?.to).toEqual({ username: "Alice", email: "alice@example.com" })
          yield* loginAs(alice)
        }))

      if (delivery === "inline") {
        test("fails with EmailDeliveryError when the mail cannot go out, and resendVerification recovers", () =>
          Effect.gen(function*() {
            const h = yield* harbor
            yield* setFailing(true)
            const error = yield* Effect.flip(h.register(alice))
            expect(error).toBeInstanceOf(EmailDeliveryError)
            expect(yield* messages).toEqual([])
            const user = yield* Effect.flatten(storedUser(alice.email))
            expect(user.verified).toBe(false)
            yield* setFailing(false)
            yield* h.resendVerification(alice.email)
            yield* h.verifyEmail(yield* lastToken("VerificationEmail", alice.email))
            yield* loginAs(alice)
          }))
      } else {
        test("succeeds while the mail cannot go out, and the worker delivers once it can", () =>
          Effect.gen(function*() {
            const h = yield* harbor
            yield* setFailing(true)
            yield* h.register(alice)
            expect(yield* messages).toEqual([])
            expect((yield* Effect.flatten(storedUser(alice.email))).verified).toBe(false)
            yield* setFailing(false)
            // Not before the retry is due.
            expect(yield* messages).toEqual([])
            yield* TestClock.adjust(pastFirstRetry)
            yield* h.verifyEmail(yield* lastToken("VerificationEmail", alice.email))
            expect(tags(yield* messages)).toEqual(["VerificationEmail alice@example.com"])
            yield* loginAs(alice)
          }))
      }

      test("lets only one of two concurrent registrations of a name win", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const results = yield* Effect.all(
            [h.register(alice), h.register({ ...bob, username: "aLiCe" })].map(Effect.either),
            { concurrency: "unbounded" }
          )
          expect(results.filter((r) => r._tag === "Right")).toHaveLength(1)
          expect(results.filter((r) => r._tag === "Left" && r.left._tag === "UsernameTaken")).toHaveLength(1)
        }))
    })

    describe("unverified accounts", () => {
      const week = Duration.toMillis("7 days")

      test("hold their username and address for unverifiedAccountTtl (7 days), then a new registration takes them", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          const stale = yield* lastToken("VerificationEmail", alice.email)
          yield* TestClock.adjust(week - 1)
          expect(yield* Effect.flip(h.register({ ...bob, username: alice.username }))).toStrictEqual(
            new UsernameTaken()
          )
          yield* h.register({ ...bob, email: alice.email })
          expect(yield* storedUserByName(bob.username)).toEqual(Option.none())
          yield* TestClock.adjust(1)
          // Exactly 7 days on, the name is free: the old account goes, with its token.
          yield* h.register({ ...bob, username: alice.username })
          const taken = Option.getOrThrow(yield* storedUserByName(alice.username))
          expect(taken.email).toBe(bob.email)
          expect(yield* storedUser(alice.email)).toEqual(Option.none())
          expect(yield* Effect.flip(h.verifyEmail(stale))).toStrictEqual(
            new InvalidToken({ purpose: "verify-email", reason: "unknown" })
          )
          yield* h.verifyEmail(yield* lastToken("VerificationEmail", bob.email))
          yield* h.login({ username: alice.username, password: bobPassword })
        }))

      test("an expired one's address is free for a new account too, and gets no new verification mail", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          yield* TestClock.adjust(week)
          yield* clearMessages
          yield* h.resendVerification(alice.email)
          expect(yield* messages).toEqual([])
          yield* h.register({ ...bob, email: alice.email })
          expect(Option.map(yield* storedUser(alice.email), (user) => user.username)).toEqual(Option.some(bob.username))
          expect(yield* storedUserByName(alice.username)).toEqual(Option.none())
        }))

      test("a verified account is never released", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* registerVerified(alice)
          yield* TestClock.adjust(Duration.toMillis("400 days"))
          expect(yield* Effect.flip(h.register({ ...bob, username: alice.username }))).toStrictEqual(
            new UsernameTaken()
          )
          yield* h.register({ ...bob, email: alice.email })
          expect(Option.map(yield* storedUser(alice.email), (user) => user.username)).toEqual(
            Option.some(alice.username)
          )
          yield* loginAs(alice)
        }))

      test("of two registrations racing for an expired account's name, one wins", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          yield* TestClock.adjust(week)
          const results = yield* Effect.all(
            [
              h.register({ ...bob, username: alice.username }),
              h.register({ username: "ALICE", email: "carol@example.com", password })
            ].map(Effect.either),
            { concurrency: "unbounded" }
          )
          expect(results.filter((r) => r._tag === "Right")).toHaveLength(1)
          expect(results.filter((r) => r._tag === "Left" && r.left._tag === "UsernameTaken")).toHaveLength(1)
          expect(yield* storedUser(alice.email)).toEqual(Option.none())
        }))

      test("PurgeSchedule deletes them after unverifiedAccountTtl, and only them", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          yield* registerVerified(bob)
          yield* TestClock.adjust(week - 1)
          yield* PurgeSchedule.purgeAll()
          expect(Option.isSome(yield* storedUser(alice.email))).toBe(true)
          yield* TestClock.adjust(1)
          yield* PurgeSchedule.purgeAll()
          expect(yield* storedUser(alice.email)).toEqual(Option.none())
          expect(yield* storedUserByName(alice.username)).toEqual(Option.none())
          expect(Option.isSome(yield* storedUser(bob.email))).toBe(true)
          yield* loginAs(bob)
        }))
    })

    describe("verifyEmail", () => {
      test("verifies once: the token is single-use", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          const token = yield* lastToken("VerificationEmail", alice.email)
          yield* h.verifyEmail(Redacted.make(token))
          expect((yield* Effect.flatten(storedUser(alice.email))).verified).toBe(true)
          expect(yield* Effect.flip(h.verifyEmail(token))).toStrictEqual(
            new InvalidToken({ purpose: "verify-email", reason: "unknown" })
          )
          expect(yield* storedToken("verify-email", token)).toEqual(Option.none())
        }))

      test("refuses malformed and unknown tokens", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          const unknown = new InvalidToken({ purpose: "verify-email", reason: "unknown" })
          for (const token of ["", "abc", "A".repeat(43), "A".repeat(44), " ".repeat(43)]) {
            expect(yield* Effect.flip(h.verifyEmail(token))).toStrictEqual(unknown)
          }
          expect((yield* Effect.flatten(storedUser(alice.email))).verified).toBe(false)
        }))

      test("accepts a token 1 ms before it expires (24 hours)", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          yield* TestClock.adjust(24 * hour - 1)
          yield* h.verifyEmail(yield* lastToken("VerificationEmail", alice.email))
          expect((yield* Effect.flatten(storedUser(alice.email))).verified).toBe(true)
        }))

      test("refuses a token at its expiry, removes it, and a second try says unknown", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          const token = yield* lastToken("VerificationEmail", alice.email)
          yield* TestClock.adjust(24 * hour)
          expect(yield* Effect.flip(h.verifyEmail(token))).toStrictEqual(
            new InvalidToken({ purpose: "verify-email", reason: "expired" })
          )
          expect(yield* storedToken("verify-email", token)).toEqual(Option.none())
          expect(yield* Effect.flip(h.verifyEmail(token))).toStrictEqual(
            new InvalidToken({ purpose: "verify-email", reason: "unknown" })
          )
          expect((yield* Effect.flatten(storedUser(alice.email))).verified).toBe(false)
        }))

      test("a new verification token invalidates the previous one", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          const first = yield* lastToken("VerificationEmail", alice.email)
          yield* h.resendVerification(alice.email)
          const second = yield* lastToken("VerificationEmail", alice.email)
          expect(second).not.toBe(first)
          expect(yield* Effect.flip(h.verifyEmail(first))).toStrictEqual(
            new InvalidToken({ purpose: "verify-email", reason: "unknown" })
          )
          yield* h.verifyEmail(second)
        }))

      test("does not accept a reset token, nor resetPassword a verification token", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          const verification = yield* lastToken("VerificationEmail", alice.email)
          yield* h.sendPasswordReset(alice.email)
          const reset = yield* lastToken("PasswordResetEmail", alice.email)
          expect(yield* Effect.flip(h.verifyEmail(reset))).toStrictEqual(
            new InvalidToken({ purpose: "verify-email", reason: "unknown" })
          )
          expect(yield* Effect.flip(h.resetPassword({ token: verification, newPassword }))).toStrictEqual(
            new InvalidToken({ purpose: "reset-password", reason: "unknown" })
          )
          // Neither attempt burnt the other kind of token.
          yield* h.verifyEmail(verification)
          yield* h.resetPassword({ token: reset, newPassword })
        }))

      test("lets only one of two concurrent uses of a token succeed", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          const token = yield* lastToken("VerificationEmail", alice.email)
          const results = yield* Effect.all([h.verifyEmail(token), h.verifyEmail(token)].map(Effect.either), {
            concurrency: "unbounded"
          })
          expect(results.filter((r) => r._tag === "Right")).toHaveLength(1)
        }))
    })

    describe("resendVerification and sendPasswordReset", () => {
      const addresses = ["nobody@example.com", bob.email, "ALICE@example.com"]
      // No account's address, whatever accounts exist: refusing them tells nothing, and writes nothing.
      const invalidAddresses = [
        ["not an address", new InvalidEmail({ reason: "invalid-format" })],
        ["", new InvalidEmail({ reason: "empty" })],
        ["x".repeat(1_000_000), new InvalidEmail({ reason: "too-long" })]
      ] as const

      test("resendVerification and sendPasswordReset refuse an invalid address, writing and sending nothing", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(bob)
          yield* clearMessages
          for (const [address, error] of invalidAddresses) {
            expect(yield* Effect.flip(h.resendVerification(address))).toStrictEqual(error)
            expect(yield* Effect.flip(h.sendPasswordReset(address))).toStrictEqual(error)
          }
          expect(yield* messages).toEqual([])
        }))

      test("resendVerification answers the same for every address and mails only unverified accounts", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* registerVerified(alice)
          yield* h.register(bob)
          yield* clearMessages
          for (const address of addresses) {
            expect(yield* Effect.exit(h.resendVerification(address))).toStrictEqual(Exit.void)
          }
          expect(tags(yield* messages)).toEqual(["VerificationEmail bob@example.com"])
        }))

      test("sendPasswordReset answers the same for every address and mails only real accounts", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* registerVerified(alice)
          yield* h.register(bob)
          yield* clearMessages
          for (const address of addresses) {
            expect(yield* Effect.exit(h.sendPasswordReset(address))).toStrictEqual(Exit.void)
            // One at a time: a worker's batch goes out in no particular order.
            yield* deliverPending
          }
          const sent = yield* messages
          expect(tags(sent)).toEqual(["PasswordResetEmail bob@example.com", "PasswordResetEmail alice@example.com"])
          const message = sent[1]
          if (message instanceof PasswordResetEmail) expect(message.expiresAt.getTime()).toBe(hour)
          else expect.fail("expected a PasswordResetEmail")
        }))

      if (delivery === "inline") {
        test("sendPasswordReset fails with EmailDeliveryError when the mail cannot go out, and can be retried", () =>
          Effect.gen(function*() {
            const h = yield* harbor
            yield* registerVerified(alice)
            yield* setFailing(true)
            expect(yield* Effect.flip(h.sendPasswordReset(alice.email))).toBeInstanceOf(EmailDeliveryError)
            yield* setFailing(false)
            yield* h.sendPasswordReset(alice.email)
            yield* h.resetPassword({ token: yield* lastToken("PasswordResetEmail", alice.email), newPassword })
          }))
      } else {
        test("sendPasswordReset succeeds while the mail cannot go out, and the worker delivers once it can", () =>
          Effect.gen(function*() {
            const h = yield* harbor
            yield* registerVerified(alice)
            yield* clearMessages
            yield* setFailing(true)
            yield* h.sendPasswordReset(alice.email)
            expect(yield* messages).toEqual([])
            yield* setFailing(false)
            yield* TestClock.adjust(pastFirstRetry)
            yield* h.resetPassword({ token: yield* lastToken("PasswordResetEmail", alice.email), newPassword })
            expect(tags(yield* messages)).toEqual([
              "PasswordResetEmail alice@example.com",
              "PasswordChangedEmail alice@example.com"
            ])
          }))
      }
    })

    describe("login", () => {
      test("logs in by username in any case and by email in any case", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* registerVerified(alice)
          const inputs = [
            { username: "Alice", password },
            { username: "aLICE", password: Redacted.make(password) },
            { email: "alice@example.com", password },
            { email: " ALICE@EXAMPLE.COM ", password }
          ]
          for (const input of inputs) {
            const session: Session = yield* h.login(input)
            expect(Redacted.value(session.token)).toMatch(/^[A-Za-z0-9_-]{43}$/)
            expect(session.expiresAt.getTime()).toBe(30 * day)
            expect(yield* h.verifySession(session.token)).toBe(true)
          }
        }))

      test("gives the same InvalidCredentials for an unknown user and a wrong password", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* registerVerified(alice)
          const errors = yield* Effect.all([
            Effect.flip(h.login({ username: "Nobody", password })),
            Effect.flip(h.login({ username: "Alice", password: "wrong-password-here" })),
            Effect.flip(h.login({ email: "nobody@example.com", password })),
            Effect.flip(h.login({ email: alice.email, password: "wrong-password-here" })),
            Effect.flip(h.login({ email: "not an address", password })),
            Effect.flip(h.login({ username: "x", password })),
            Effect.flip(h.login({ username: "Alice", password: "\uD800 lone surrogate" })),
            Effect.flip(h.login({ username: "Alice", password: "" }))
          ])
          for (const error of errors) {
            expect(error).toStrictEqual(new InvalidCredentials())
            expect(Equal.equals(error, errors[0])).toBe(true)
            expect(error.message).toBe(errors[0]?.message)
          }
        }))

      test("says EmailNotVerified only after the right password", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          expect(yield* Effect.flip(h.login({ username: "Alice", password: "wrong-password-here" })))
            .toStrictEqual(new InvalidCredentials())
          expect(yield* Effect.flip(loginAs(alice))).toStrictEqual(new EmailNotVerified())
        }))
    })

    describe("sessions", () => {
      test("verifySession and getCurrentUser accept a live session and refuse anything else", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const session = yield* loggedIn(alice)
          expect(yield* h.verifySession(session.token)).toBe(true)
          expect(yield* h.verifySession(Redacted.value(session.token))).toBe(true)
          for (const token of ["", "garbage", "A".repeat(43)]) {
            expect(yield* h.verifySession(token)).toBe(false)
            expect(yield* Effect.flip(h.getCurrentUser(token))).toStrictEqual(new InvalidSession({ reason: "unknown" }))
          }
          const user = yield* h.getCurrentUser(session.token)
          expect(Object.keys(user).sort()).toEqual(["createdAt", "email", "id", "username", "verified"])
          expect({ username: user.username, email: user.email, verified: user.verified }).toEqual({
            username: "Alice",
            email: "alice@example.com",
            verified: true
          })
          expect(user.createdAt).toEqual(new Date(0))
        }))

      test("a session is valid 1 ms before 30 days", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const session = yield* loggedIn(alice)
          yield* TestClock.adjust(30 * day - 1)
          expect(yield* h.verifySession(session.token)).toBe(true)
        }))

      test("an expired session is refused and removed", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const session = yield* loggedIn(alice)
          yield* TestClock.adjust(30 * day)
          expect(yield* Effect.flip(h.validateSession(session.token))).toStrictEqual(
            new InvalidSession({ reason: "expired" })
          )
          expect(yield* storedSession(session.token)).toEqual(Option.none())
          expect(yield* Effect.flip(h.validateSession(session.token))).toStrictEqual(
            new InvalidSession({ reason: "unknown" })
          )
          expect(yield* h.verifySession(session.token)).toBe(false)
        }))

      test("every session operation refuses an expired session", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const expired = new InvalidSession({ reason: "expired" })
          const operations: ReadonlyArray<(token: Redacted.Redacted<string>) => Effect.Effect<unknown, unknown>> = [
            (token: Redacted.Redacted<string>) => h.getCurrentUser(token),
            (token: Redacted.Redacted<string>) => h.logout(token),
            (token: Redacted.Redacted<string>) => h.logoutAll(token),
            (token: Redacted.Redacted<string>) =>
              h.changePassword({ sessionToken: token, oldPassword: password, newPassword }),
            (token: Redacted.Redacted<string>) => h.deleteAccount({ sessionToken: token, password }),
            (token: Redacted.Redacted<string>) => h.listSessions(token),
            (token: Redacted.Redacted<string>) => h.revokeSession(token, "any-id"),
            (token: Redacted.Redacted<string>) => h.revokeOtherSessions(token)
          ]
          yield* registerVerified(alice)
          for (const operation of operations) {
            const session = yield* loginAs(alice)
            yield* TestClock.adjust(30 * day)
            expect(yield* Effect.flip(operation(session.token))).toStrictEqual(expired)
          }
          expect(yield* Effect.flatten(storedUser(alice.email))).toBeDefined()
          yield* loginAs(alice)
        }))

      test("renews a session only once less than half its lifetime remains", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const session = yield* loggedIn(alice)
          yield* TestClock.adjust(15 * day)
          const half = yield* h.validateSession(session.token)
          expect(half.session.renewed).toBe(false)
          expect(half.session.expiresAt.getTime()).toBe(30 * day)
          yield* TestClock.adjust(1)
          const renewed = yield* h.validateSession(session.token)
          expect(renewed.session.renewed).toBe(true)
          expect(renewed.session.expiresAt.getTime()).toBe(45 * day + 1)
          expect(renewed.session.createdAt).toEqual(new Date(0))
          expect(renewed.user.username).toBe("Alice")
          const stored = yield* Effect.flatten(storedSession(session.token))
          expect(stored.session.expiresAt).toBe(45 * day + 1)
          const again = yield* h.validateSession(session.token)
          expect(again.session).toEqual({ ...renewed.session, renewed: false })
          // Past the original expiry, the renewed session still works, until its new one.
          yield* TestClock.adjust(45 * day - 15 * day - 1)
          expect(yield* h.verifySession(session.token)).toBe(true)
        }))

      test("logout ends one session and keeps the others", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const first = yield* loggedIn(alice)
          const second = yield* loginAs(alice)
          yield* h.logout(first.token)
          expect(yield* h.verifySession(first.token)).toBe(false)
          expect(yield* h.verifySession(second.token)).toBe(true)
          expect(yield* Effect.flip(h.logout(first.token))).toStrictEqual(new InvalidSession({ reason: "unknown" }))
        }))

      test("logoutAll ends every session of the user and no one else's", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const first = yield* loggedIn(alice)
          const second = yield* loginAs(alice)
          const other = yield* loggedIn(bob)
          yield* h.logoutAll(second.token)
          expect(yield* h.verifySession(first.token)).toBe(false)
          expect(yield* h.verifySession(second.token)).toBe(false)
          expect(yield* h.verifySession(other.token)).toBe(true)
          expect(yield* Effect.flip(h.logoutAll(first.token))).toStrictEqual(new InvalidSession({ reason: "unknown" }))
        }))
    })

    describe("changePassword", () => {
      test("checks the session, then the old password, then the policy, changing nothing on failure", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const session = yield* loggedIn(alice)
          const before = yield* storedUser(alice.email)
          yield* clearMessages
          const attempts = [
            [
              { sessionToken: "garbage", oldPassword: "wrong-password-here", newPassword: "weak" },
              new InvalidSession({ reason: "unknown" })
            ],
            [
              { sessionToken: session.token, oldPassword: "wrong-password-here", newPassword: "weak" },
              new InvalidCredentials()
            ],
            [
              { sessionToken: session.token, oldPassword: password, newPassword: "weak" },
              new WeakPassword({ reasons: ["too-short", "too-few-distinct"] })
            ],
            [
              { sessionToken: session.token, oldPassword: password, newPassword: "ALICE" + "@example.com" },
              new WeakPassword({ reasons: ["contains-username", "same-as-email"] })
            ]
          ] as const
          for (const [input, expected] of attempts) {
            expect(yield* Effect.flip(h.changePassword(input))).toStrictEqual(expected)
          }
          expect(yield* storedUser(alice.email)).toStrictEqual(before)
          expect(yield* h.verifySession(session.token)).toBe(true)
          expect(yield* messages).toEqual([])
          yield* loginAs(alice)
        }))

      test("sets the password, revokes every session and reset token, and returns a working fresh session", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const first = yield* loggedIn(alice)
          const second = yield* loginAs(alice)
          yield* h.sendPasswordReset(alice.email)
          const reset = yield* lastToken("PasswordResetEmail", alice.email)
          yield* clearMessages
          const fresh = yield* h.changePassword({ sessionToken: first.token, oldPassword: password, newPassword })
          expect(yield* h.verifySession(first.token)).toBe(false)
          expect(yield* h.verifySession(second.token)).toBe(false)
          expect((yield* h.getCurrentUser(fresh.token)).username).toBe("Alice")
          expect(fresh.expiresAt.getTime()).toBe(30 * day)
          expect(yield* storedToken("reset-password", reset)).toEqual(Option.none())
          expect(yield* Effect.flip(h.resetPassword({ token: reset, newPassword: "yet-another-fine-pass" })))
            .toStrictEqual(new InvalidToken({ purpose: "reset-password", reason: "unknown" }))
          expect(yield* Effect.flip(loginAs(alice))).toStrictEqual(new InvalidCredentials())
          yield* loginAs({ ...alice, password: newPassword })
          const sent = yield* messages
          expect(sent).toHaveLength(1)
          expect(sent[0]).toBeInstanceOf(PasswordChangedEmail)
        }))

      test("succeeds even when the notice cannot be delivered", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const session = yield* loggedIn(alice)
          yield* setFailing(true)
          const fresh = yield* h.changePassword({ sessionToken: session.token, oldPassword: password, newPassword })
          expect(yield* h.verifySession(fresh.token)).toBe(true)
        }))
    })

    describe("resetPassword", () => {
      test("sets the password, revokes every session, marks the address verified, and is single-use", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const aliceSession = yield* loggedIn(alice)
          const other = yield* loggedIn(bob)
          yield* h.sendPasswordReset(alice.email)
          const token = yield* lastToken("PasswordResetEmail", alice.email)
          yield* clearMessages
          yield* h.resetPassword({ token: Redacted.make(token), newPassword })
          expect(yield* h.verifySession(aliceSession.token)).toBe(false)
          expect(yield* h.verifySession(other.token)).toBe(true)
          expect(yield* Effect.flip(loginAs(alice))).toStrictEqual(new InvalidCredentials())
          yield* loginAs({ ...alice, password: newPassword })
          expect(yield* Effect.flip(h.resetPassword({ token, newPassword: "yet-another-fine-pass" }))).toStrictEqual(
            new InvalidToken({ purpose: "reset-password", reason: "unknown" })
          )
          expect(tags(yield* messages)).toEqual(["PasswordChangedEmail alice@example.com"])
        }))

      test("marks an unverified address verified", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* h.register(alice)
          yield* h.sendPasswordReset(alice.email)
          yield* h.resetPassword({ token: yield* lastToken("PasswordResetEmail", alice.email), newPassword })
          expect((yield* Effect.flatten(storedUser(alice.email))).verified).toBe(true)
          const session = yield* loginAs({ ...alice, password: newPassword })
          expect((yield* h.getCurrentUser(session.token)).verified).toBe(true)
        }))

      test("a weak new password does not burn the token", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const session = yield* loggedIn(alice)
          yield* h.sendPasswordReset(alice.email)
          const token = yield* lastToken("PasswordResetEmail", alice.email)
          const before = yield* storedUser(alice.email)
          yield* clearMessages
          expect(yield* Effect.flip(h.resetPassword({ token, newPassword: "12345678" }))).toStrictEqual(
            new WeakPassword({ reasons: ["sequential", "common"] })
          )
          expect(yield* Effect.flip(h.resetPassword({ token, newPassword: "alice" }))).toStrictEqual(
            new WeakPassword({ reasons: ["too-short", "same-as-username", "contains-email"] })
          )
          expect(yield* storedUser(alice.email)).toStrictEqual(before)
          expect(Option.isSome(yield* storedToken("reset-password", token))).toBe(true)
          expect(yield* h.verifySession(session.token)).toBe(true)
          expect(yield* messages).toEqual([])
          yield* h.resetPassword({ token, newPassword })
        }))

      test("accepts a token 1 ms before it expires (1 hour)", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* registerVerified(alice)
          yield* h.sendPasswordReset(alice.email)
          yield* TestClock.adjust(hour - 1)
          yield* h.resetPassword({ token: yield* lastToken("PasswordResetEmail", alice.email), newPassword })
          yield* loginAs({ ...alice, password: newPassword })
        }))

      test("refuses a token at its expiry, removes it, and a second try says unknown", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* registerVerified(alice)
          yield* h.sendPasswordReset(alice.email)
          const token = yield* lastToken("PasswordResetEmail", alice.email)
          const before = yield* storedUser(alice.email)
          yield* TestClock.adjust(hour)
          expect(yield* Effect.flip(h.resetPassword({ token, newPassword }))).toStrictEqual(
            new InvalidToken({ purpose: "reset-password", reason: "expired" })
          )
          expect(yield* storedToken("reset-password", token)).toEqual(Option.none())
          expect(yield* Effect.flip(h.resetPassword({ token, newPassword }))).toStrictEqual(
            new InvalidToken({ purpose: "reset-password", reason: "unknown" })
          )
          expect(yield* storedUser(alice.email)).toStrictEqual(before)
          yield* loginAs(alice)
        }))

      test("a new reset token invalidates the previous one", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* registerVerified(alice)
          yield* h.sendPasswordReset(alice.email)
          const first = yield* lastToken("PasswordResetEmail", alice.email)
          yield* h.sendPasswordReset(alice.email)
          const second = yield* lastToken("PasswordResetEmail", alice.email)
          expect(second).not.toBe(first)
          expect(yield* Effect.flip(h.resetPassword({ token: first, newPassword }))).toStrictEqual(
            new InvalidToken({ purpose: "reset-password", reason: "unknown" })
          )
          yield* h.resetPassword({ token: second, newPassword })
        }))

      test("lets only one of two concurrent resets with one token succeed", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          yield* registerVerified(alice)
          yield* h.sendPasswordReset(alice.email)
          const token = yield* lastToken("PasswordResetEmail", alice.email)
          const results = yield* Effect.all(
            [newPassword, "yet-another-fine-pass"].map((p) =>
              Effect.either(h.resetPassword({ token, newPassword: p }))
            ),
            { concurrency: "unbounded" }
          )
          expect(results.filter((r) => r._tag === "Right")).toHaveLength(1)
          expect(results.filter((r) => r._tag === "Left" && r.left._tag === "InvalidToken")).toHaveLength(1)
        }))
    })

    describe("deleteAccount", () => {
      test("refuses a wrong password or session, changing nothing", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const session = yield* loggedIn(alice)
          const before = yield* storedUser(alice.email)
          yield* clearMessages
          expect(yield* Effect.flip(h.deleteAccount({ sessionToken: session.token, password: "wrong-password-here" })))
            .toStrictEqual(new InvalidCredentials())
          expect(yield* Effect.flip(h.deleteAccount({ sessionToken: "garbage", password }))).toStrictEqual(
            new InvalidSession({ reason: "unknown" })
          )
          expect(yield* storedUser(alice.email)).toStrictEqual(before)
          expect(yield* h.verifySession(session.token)).toBe(true)
          expect(yield* messages).toEqual([])
        }))

      test("removes the user with every session and token, and frees the name and address", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const first = yield* loggedIn(alice)
          const second = yield* loginAs(alice)
          const other = yield* loggedIn(bob)
          yield* h.sendPasswordReset(alice.email)
          const reset = yield* lastToken("PasswordResetEmail", alice.email)
          yield* clearMessages
          yield* h.deleteAccount({ sessionToken: second.token, password: Redacted.make(password) })
          expect(yield* storedUser(alice.email)).toEqual(Option.none())
          expect(yield* storedUserByName(alice.username)).toEqual(Option.none())
          expect(yield* h.verifySession(first.token)).toBe(false)
          expect(yield* h.verifySession(second.token)).toBe(false)
          expect(yield* storedToken("reset-password", reset)).toEqual(Option.none())
          expect(yield* Effect.flip(h.resetPassword({ token: reset, newPassword }))).toStrictEqual(
            new InvalidToken({ purpose: "reset-password", reason: "unknown" })
          )
          expect(yield* Effect.flip(loginAs(alice))).toStrictEqual(new InvalidCredentials())
          expect(yield* h.verifySession(other.token)).toBe(true)
          const sent = yield* messages
          expect(sent).toHaveLength(1)
          expect(sent[0]).toBeInstanceOf(AccountDeletedEmail)
          yield* h.register(alice)
        }))
    })

    describe("session policy and management", () => {
      const expired = new InvalidSession({ reason: "expired" })

      test("the absolute timeout (90 days) ends a session used every day, and renewal never passes it", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const session = yield* loggedIn(alice)
          expect(session.expiresAt.getTime()).toBe(30 * day)
          const seen: Array<readonly [number, number]> = []
          for (let at = day; at < 90 * day; at += day) {
            yield* TestClock.setTime(at)
            const { session: info } = yield* h.validateSession(session.token)
            expect(info.expiresAt.getTime()).toBeLessThanOrEqual(90 * day)
            if (info.renewed) seen.push([at / day, info.expiresAt.getTime() / day])
          }
          // Renewed once less than 15 days remain, until the renewal would reach past day 90.
          expect(seen).toEqual([[16, 46], [32, 62], [48, 78], [64, 90]])
          const stored = yield* Effect.flatten(storedSession(session.token))
          expect(stored.session.expiresAt).toBe(90 * day)
          yield* TestClock.setTime(90 * day - 1)
          const last = yield* h.validateSession(session.token)
          expect(last.session).toMatchObject({ renewed: false, expiresAt: new Date(90 * day) })
          yield* TestClock.setTime(90 * day)
          expect(yield* Effect.flip(h.validateSession(session.token))).toStrictEqual(expired)
          expect(yield* storedSession(session.token)).toEqual(Option.none())
        }))

      test("the idle timeout still ends a session unused for 30 days before the absolute one", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const session = yield* loggedIn(alice)
          yield* TestClock.setTime(20 * day)
          expect((yield* h.validateSession(session.token)).session.expiresAt.getTime()).toBe(50 * day)
          yield* TestClock.setTime(50 * day - 1)
          expect(yield* h.verifySession(session.token)).toBe(true)
          yield* TestClock.setTime(80 * day)
          expect(yield* Effect.flip(h.getCurrentUser(session.token))).toStrictEqual(expired)
        }))

      test("lastUsedAt is written at most once an hour, without moving the expiry", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const session = yield* loggedIn(alice)
          yield* TestClock.setTime(hour - 1)
          yield* h.validateSession(session.token)
          expect((yield* Effect.flatten(storedSession(session.token))).session.lastUsedAt).toBe(0)
          yield* TestClock.setTime(hour)
          const info = (yield* h.validateSession(session.token)).session
          expect(info).toMatchObject({ renewed: false, expiresAt: new Date(30 * day) })
          const stored = (yield* Effect.flatten(storedSession(session.token))).session
          expect({ lastUsedAt: stored.lastUsedAt, expiresAt: stored.expiresAt }).toEqual({
            lastUsedAt: hour,
            expiresAt: 30 * day
          })
        }))

      test("listSessions shows the caller's live sessions oldest first, marks the current one, and no secret", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const stale = yield* loggedIn(alice)
          yield* TestClock.setTime(20 * day)
          const first = yield* loginAs(alice)
          yield* TestClock.setTime(21 * day)
          const second = yield* loginAs(alice)
          yield* loggedIn(bob)
          yield* TestClock.setTime(22 * day)
          yield* h.validateSession(first.token)
          // `stale` has been idle for 30 days: still stored, but not a session any more.
          yield* TestClock.setTime(30 * day)
          expect(Option.isSome(yield* storedSession(stale.token))).toBe(true)
          const listed = yield* h.listSessions(second.token)
          expect(listed).toEqual([
            {
              id: first.id,
              createdAt: new Date(20 * day),
              lastUsedAt: new Date(22 * day),
              expiresAt: new Date(50 * day),
              current: false,
              device: noDevice
            },
            {
              id: second.id,
              createdAt: new Date(21 * day),
              lastUsedAt: new Date(21 * day),
              expiresAt: new Date(51 * day),
              current: true,
              device: noDevice
            }
          ])
          expect((yield* h.listSessions(first.token)).map((s) => s.current)).toEqual([true, false])
          const dump = JSON.stringify(listed)
          for (const token of [first.token, second.token]) {
            expect(dump).not.toContain(Redacted.value(token))
            expect(dump).not.toContain(tokenHash(token))
          }
          expect(yield* Effect.flip(h.listSessions(stale.token))).toStrictEqual(expired)
          expect(yield* Effect.flip(h.listSessions("garbage"))).toStrictEqual(new InvalidSession({ reason: "unknown" }))
        }))

      test("strings no store could hold, as names, addresses, tokens, ids and client keys, never end in StoreError", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const current = yield* loggedIn(alice)
          const hostile = ["\u0000", "\uD800", `alice\u0000`, `\uDC00${"x".repeat(100)}`, "é".repeat(2_000)]
          const outcomes: Array<string> = []
          const tag = (effect: Effect.Effect<unknown, { readonly _tag: string }>) =>
            Effect.map(Effect.exit(effect), (exit) => outcomes.push(exit._tag === "Success" ? "ok" : exit.cause._tag))
          const errorTag = (effect: Effect.Effect<unknown, { readonly _tag: string }>) =>
            Effect.map(Effect.flip(effect), (error) => error._tag)
          for (const value of hostile) {
            const tags = [
              yield* errorTag(h.login({ username: value, password })),
              yield* errorTag(h.login({ email: value, password })),
              yield* errorTag(h.login({ email: `${value}@example.com`, password, clientKey: value })),
              yield* errorTag(h.verifyEmail(value)),
              yield* errorTag(h.resetPassword({ token: value, newPassword })),
              yield* errorTag(h.validateSession(value)),
              yield* errorTag(h.resendVerification(`${value}@example.com`)),
              yield* errorTag(h.sendPasswordReset(value)),
              yield* errorTag(h.revokeSession(current.token, value)),
              yield* errorTag(h.register({ username: value, email: "new@example.com", password }))
            ]
            expect(tags, JSON.stringify(value.slice(0, 8))).toEqual([
              "InvalidCredentials",
              "InvalidCredentials",
              "InvalidCredentials",
              "InvalidToken",
              "InvalidToken",
              "InvalidSession",
              "InvalidEmail",
              "InvalidEmail",
              "SessionNotFound",
              "InvalidUsername"
            ])
            // Client details are never refused: what cannot be kept is cut or dropped.
            const client = { userAgent: value, address: value }
            yield* tag(h.login({ username: alice.username, password, clientKey: value, client }))
          }
          expect(outcomes).toEqual(hostile.map(() => "ok"))
        }))

      test("revokeSession ends one of the caller's sessions and never another user's", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const current = yield* loggedIn(alice)
          const other = yield* loginAs(alice)
          const third = yield* loginAs(alice)
          const bobs = yield* loggedIn(bob)
          yield* h.revokeSession(current.token, other.id)
          expect(yield* h.verifySession(other.token)).toBe(false)
          expect(yield* h.verifySession(current.token)).toBe(true)
          expect(yield* h.verifySession(third.token)).toBe(true)
          const notFound = new SessionNotFound()
          expect(yield* Effect.flip(h.revokeSession(current.token, other.id))).toStrictEqual(notFound)
          expect(yield* Effect.flip(h.revokeSession(current.token, bobs.id))).toStrictEqual(notFound)
          expect(yield* h.verifySession(bobs.token)).toBe(true)
          expect(yield* Effect.flip(h.revokeSession(current.token, "no-such-session"))).toStrictEqual(notFound)
          // Ids that cannot be ids are unknown ones, on every store (PostgreSQL refuses NUL, MariaDB lone surrogates).
          for (const id of ["\u0000", "\uD800", `${other.id}\u0000`, "é", "x".repeat(100_000)]) {
            expect(yield* Effect.flip(h.revokeSession(current.token, id)), JSON.stringify(id)).toStrictEqual(notFound)
          }
          expect(yield* Effect.flip(h.revokeSession("garbage", third.id))).toStrictEqual(
            new InvalidSession({ reason: "unknown" })
          )
          expect(yield* h.verifySession(third.token)).toBe(true)
          // Its own id ends the current session, like logout.
          yield* h.revokeSession(current.token, current.id)
          expect(yield* h.verifySession(current.token)).toBe(false)
          expect((yield* h.listSessions(third.token)).map((s) => s.id)).toEqual([third.id])
        }))

      test("revokeOtherSessions keeps the current session and no one else's is touched", () =>
        Effect.gen(function*() {
          const h = yield* harbor
          const first = yield* loggedIn(alice)
          const current = yield* loginAs(alice)
          const third = yield* loginAs(alice)
          const bobs = yield* loggedIn(bob)
          expect(yield* h.revokeOtherSessions(current.token)).toBe(2)
          expect(yield* h.verifySession(first.token)).toBe(false)
          expect(yield* h.verifySession(third.token)).toBe(false)
          expect(yield* h.verifySession(current.token)).toBe(true)
          expect(yield* h.verifySession(bobs.token)).toBe(true)
          expect(yield* h.revokeOtherSessions(current.token)).toBe(0)
          expect(yield* Effect.flip(h.revokeOtherSessions(first.token))).toStrictEqual(
            new InvalidSession({ reason: "unknown" })
          )
        }))
    })
  })
