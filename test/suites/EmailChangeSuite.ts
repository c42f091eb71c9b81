/**
 * Change of email address through the public API (request, confirmation, revert), parametrised by the store so the
 * same cases run on the memory store and on every SQL backend, inline or through the outbox. `makeLayer` must give a
 * fresh, empty store for each test (the deterministic random source repeats its tokens in every test).
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option, Redacted, TestClock } from "effect"
import { EmailChangeStore } from "../../src/EmailChangeStore.js"
import { EmailChangeConfirmationEmail, EmailChangedEmail } from "../../src/EmailSender.js"
import {
  EmailTaken,
  EmailUnchanged,
  InvalidCredentials,
  InvalidEmail,
  InvalidSession,
  InvalidToken
} from "../../src/Errors.js"
import * as PurgeSchedule from "../../src/PurgeSchedule.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import type * as UserHarborTest from "../../src/UserHarborTest.js"
import {
  alice,
  bob,
  clearMessages,
  drainOutbox,
  lastToken,
  loggedIn,
  loginAs,
  messages,
  newPassword,
  password,
  registerVerified,
  storedUser,
  tags
} from "../support/fixtures.js"

type Services = UserHarborTest.StoreServices | EmailChangeStore

const hour = Duration.toMillis("1 hour")
const day = Duration.toMillis("1 day")
const newAddress = "alice.new@example.org"

/** Alice signed in, with a change to `newAddress` requested: her session and the confirmation token. */
const requested = Effect.gen(function*() {
  const h = yield* UserHarbor
  const session = yield* loggedIn(alice)
  yield* clearMessages
  yield* h.requestEmailChange({ sessionToken: session.token, password, newEmail: newAddress })
  return { session, token: yield* lastToken("EmailChangeConfirmationEmail", newAddress) }
})

/** `requested`, confirmed: her session and the revert token mailed to her old address. */
const confirmed = Effect.gen(function*() {
  const h = yield* UserHarbor
  const { session, token } = yield* requested
  yield* h.confirmEmailChange(token)
  return { session, revert: yield* lastToken("EmailChangedEmail", alice.email) }
})

const isLive = (token: Redacted.Redacted<string>) => Effect.flatMap(UserHarbor, (h) => h.verifySession(token))

const pendingOf = (email: string) =>
  Effect.gen(function*() {
    const user = yield* Effect.flatten(storedUser(email))
    return yield* Effect.flatMap(EmailChangeStore, (changes) => changes.findPendingChange(user.id))
  })

export const emailChangeSuite = <E>(
  name: string,
  makeLayer: () => Layer.Layer<Services, E>,
  delivery: "inline" | "outbox" = "inline"
) =>
  describe(`change of email address (${delivery === "inline" ? name : `${name}, outbox`})`, () => {
    const kit = delivery === "inline" ? makeLayer : () => drainOutbox.pipe(Layer.provideMerge(makeLayer()))
    const test = <A, E2>(title: string, body: () => Effect.Effect<A, E2, Services>) =>
      it.effect(title, () => Effect.provide(body(), kit()))

    test("request → mail to the new address → confirm → sign in with the new address", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { session, token } = yield* requested
        const elsewhere = yield* loginAs(alice)
        expect(tags(yield* messages)).toEqual([`EmailChangeConfirmationEmail ${newAddress}`])
        const sent = (yield* messages)[0]
        expect(sent).toBeInstanceOf(EmailChangeConfirmationEmail)
        if (sent instanceof EmailChangeConfirmationEmail) expect(sent.expiresAt.getTime()).toBe(24 * hour)
        expect(yield* h.pendingEmailChange(session.token)).toEqual(
          Option.some({ newEmail: newAddress, expiresAt: new Date(24 * hour) })
        )
        // Nothing moves before the confirmation.
        expect((yield* h.getCurrentUser(session.token)).email).toBe(alice.email)

        yield* clearMessages
        yield* h.confirmEmailChange(token)
        const user = yield* h.getCurrentUser(session.token)
        expect(user.email).toBe(newAddress)
        expect(user.verified).toBe(true)
        expect(yield* isLive(session.token)).toBe(true)
        expect(yield* isLive(elsewhere.token)).toBe(false)
        expect(yield* h.pendingEmailChange(session.token)).toEqual(Option.none())
        expect(tags(yield* messages)).toEqual([`EmailChangedEmail ${alice.email}`])
        const notice = (yield* messages)[0]
        expect(notice).toBeInstanceOf(EmailChangedEmail)
        if (notice instanceof EmailChangedEmail) {
          expect(notice.newEmail).toBe(newAddress)
          expect(notice.expiresAt.getTime()).toBe(7 * day)
        }

        yield* h.login({ email: newAddress, password })
        expect(yield* Effect.flip(h.login({ email: alice.email, password }))).toEqual(new InvalidCredentials())
        expect(Option.isNone(yield* storedUser(alice.email))).toBe(true)
      }))

    test("a taken address gets the same answer; its owner gets a notice and nothing is pending", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        yield* registerVerified(bob)
        const session = yield* loggedIn(alice)
        yield* clearMessages
        yield* h.requestEmailChange({ sessionToken: session.token, password, newEmail: " BOB@example.com " })
        expect(tags(yield* messages)).toEqual([`EmailChangeAttemptEmail ${bob.email}`])
        expect(yield* h.pendingEmailChange(session.token)).toEqual(Option.none())
        expect(Option.isNone(yield* pendingOf(alice.email))).toBe(true)
      }))

    test("refuses a wrong password, a bad address, the current address and a dead session, changing nothing", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const session = yield* loggedIn(alice)
        yield* clearMessages
        const attempt = (input: { sessionToken?: string | Redacted.Redacted<string>; pass?: string; to: string }) =>
          Effect.flip(h.requestEmailChange({
            sessionToken: input.sessionToken ?? session.token,
            password: input.pass ?? password,
            newEmail: input.to
          }))
        expect(yield* attempt({ pass: "wrong-password-here", to: newAddress })).toEqual(new InvalidCredentials())
        expect(yield* attempt({ to: "not-an-address" })).toEqual(new InvalidEmail({ reason: "invalid-format" }))
        expect(yield* attempt({ to: " ALICE@Example.com" })).toEqual(new EmailUnchanged())
        expect(yield* attempt({ sessionToken: "A".repeat(43), to: newAddress })).toEqual(
          new InvalidSession({ reason: "unknown" })
        )
        expect(yield* messages).toEqual([])
        expect(Option.isNone(yield* pendingOf(alice.email))).toBe(true)
      }))

    test("a confirmation token works once, not after its time, and a new request voids the previous one", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { session, token } = yield* requested
        yield* h.requestEmailChange({ sessionToken: session.token, password, newEmail: "alice.other@example.org" })
        const unknown = new InvalidToken({ purpose: "confirm-email-change", reason: "unknown" })
        expect(yield* Effect.flip(h.confirmEmailChange(token))).toEqual(unknown)
        expect(yield* Effect.flip(h.confirmEmailChange("garbage"))).toEqual(unknown)
        const second = yield* lastToken("EmailChangeConfirmationEmail", "alice.other@example.org")
        yield* TestClock.adjust("25 hours")
        expect(yield* Effect.flip(h.confirmEmailChange(second))).toEqual(
          new InvalidToken({ purpose: "confirm-email-change", reason: "expired" })
        )
        // The expired token was consumed: it is unknown now.
        expect(yield* Effect.flip(h.confirmEmailChange(second))).toEqual(unknown)
        expect(Option.isSome(yield* storedUser(alice.email))).toBe(true)
      }))

    test("a password change between request and confirmation voids the request", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { session, token } = yield* requested
        yield* h.changePassword({ sessionToken: session.token, oldPassword: password, newPassword })
        expect(yield* Effect.flip(h.confirmEmailChange(token))).toEqual(
          new InvalidToken({ purpose: "confirm-email-change", reason: "unknown" })
        )
        expect(Option.isSome(yield* storedUser(alice.email))).toBe(true)
      }))

    test("an address taken between request and confirmation: EmailTaken, and the account stays as it was", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { token } = yield* requested
        yield* registerVerified({ ...bob, email: newAddress })
        expect(yield* Effect.flip(h.confirmEmailChange(token))).toEqual(new EmailTaken())
        expect(Option.isSome(yield* storedUser(alice.email))).toBe(true)
        // Used up: a second try is an unknown token.
        expect((yield* Effect.flip(h.confirmEmailChange(token)))._tag).toBe("InvalidToken")
      }))

    test("revert restores the old address, ends every session and voids reset tokens", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { revert, session } = yield* confirmed
        yield* h.sendPasswordReset(newAddress)
        const reset = yield* lastToken("PasswordResetEmail", newAddress)
        yield* h.revertEmailChange(revert)
        expect(yield* isLive(session.token)).toBe(false)
        expect(Option.isSome(yield* storedUser(alice.email))).toBe(true)
        expect(Option.isNone(yield* storedUser(newAddress))).toBe(true)
        expect(yield* Effect.flip(h.resetPassword({ token: reset, newPassword }))).toEqual(
          new InvalidToken({ purpose: "reset-password", reason: "unknown" })
        )
        yield* h.login({ email: alice.email, password })
        expect(yield* Effect.flip(h.revertEmailChange(revert))).toEqual(
          new InvalidToken({ purpose: "revert-email-change", reason: "unknown" })
        )
      }))

    test("a revert token expires after 7 days", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { revert } = yield* confirmed
        yield* TestClock.adjust("7 days")
        expect(yield* Effect.flip(h.revertEmailChange(revert))).toEqual(
          new InvalidToken({ purpose: "revert-email-change", reason: "expired" })
        )
        expect(Option.isSome(yield* storedUser(newAddress))).toBe(true)
      }))

    test("revert when the old address has a verified account by now: EmailTaken, sessions ended, token kept", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { revert, session } = yield* confirmed
        yield* registerVerified({ ...bob, email: alice.email })
        expect(yield* Effect.flip(h.revertEmailChange(revert))).toEqual(new EmailTaken())
        expect(yield* isLive(session.token)).toBe(false)
        expect(Option.isSome(yield* storedUser(newAddress))).toBe(true)
        // Once the address is free again, the same token restores it.
        const bobSession = yield* loginAs(bob)
        yield* h.deleteAccount({ sessionToken: bobSession.token, password: bob.password })
        yield* h.revertEmailChange(revert)
        expect(Option.isSome(yield* storedUser(alice.email))).toBe(true)
      }))

    test("revert releases the old address from an unverified account that took it", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { revert } = yield* confirmed
        yield* h.register({ ...bob, email: alice.email })
        yield* h.revertEmailChange(revert)
        const user = yield* Effect.flatten(storedUser(alice.email))
        expect(user.username).toBe(alice.username)
      }))

    test("after two changes, reverting the first restores the original and voids the second's revert token", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { revert: first, session } = yield* confirmed
        yield* TestClock.adjust("1 minute")
        yield* h.requestEmailChange({ sessionToken: session.token, password, newEmail: "third@example.net" })
        yield* h.confirmEmailChange(yield* lastToken("EmailChangeConfirmationEmail", "third@example.net"))
        const second = yield* lastToken("EmailChangedEmail", newAddress)
        yield* h.revertEmailChange(first)
        expect(Option.isSome(yield* storedUser(alice.email))).toBe(true)
        expect(yield* Effect.flip(h.revertEmailChange(second))).toEqual(
          new InvalidToken({ purpose: "revert-email-change", reason: "unknown" })
        )
      }))

    test("20 concurrent confirmations by two accounts of one new address: exactly one account wins", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const aliceSession = yield* loggedIn(alice)
        const bobSession = yield* loggedIn(bob)
        const shared = "shared@example.org"
        yield* h.requestEmailChange({ sessionToken: aliceSession.token, password, newEmail: shared })
        const aliceToken = yield* lastToken("EmailChangeConfirmationEmail", shared)
        yield* h.requestEmailChange({ sessionToken: bobSession.token, password: bob.password, newEmail: shared })
        const bobToken = yield* lastToken("EmailChangeConfirmationEmail", shared)
        expect(bobToken).not.toBe(aliceToken)
        const outcomes = yield* Effect.all(
          Array.from({ length: 20 }, (_, i) =>
            h.confirmEmailChange(i % 2 === 0 ? aliceToken : bobToken).pipe(
              Effect.as("ok"),
              Effect.catchAll((error) => Effect.succeed(error._tag))
            )),
          { concurrency: "unbounded" }
        )
        const count = (tag: string) => outcomes.filter((o) => o === tag).length
        expect({ ok: count("ok"), EmailTaken: count("EmailTaken"), InvalidToken: count("InvalidToken") }).toEqual({
          ok: 1,
          EmailTaken: 1,
          InvalidToken: 18
        })
        const holder = yield* Effect.flatten(storedUser(shared))
        const winner = outcomes.indexOf("ok") % 2 === 0 ? alice : bob
        expect(holder.username).toBe(winner.username)
        const loser = winner === alice ? bob : alice
        expect(Option.isSome(yield* storedUser(loser.email))).toBe(true)
      }))

    test("over the mail limit a request still succeeds, and sends nothing", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const session = yield* loggedIn(alice)
        yield* clearMessages
        for (let i = 0; i < 4; i++) {
          yield* h.requestEmailChange({ sessionToken: session.token, password, newEmail: `n${i}@example.org` })
        }
        expect(tags(yield* messages).sort()).toEqual(
          [0, 1, 2].map((i) => `EmailChangeConfirmationEmail n${i}@example.org`)
        )
        expect(yield* h.pendingEmailChange(session.token)).toEqual(Option.none())
      }))

    test("PurgeSchedule removes expired pending changes and revert tokens", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { session } = yield* confirmed
        yield* h.requestEmailChange({ sessionToken: session.token, password, newEmail: "later@example.org" })
        yield* TestClock.adjust("8 days")
        const removed = yield* PurgeSchedule.purgeAll()
        // The pending change, the revert token, and the expired session.
        expect(removed).toBeGreaterThanOrEqual(2)
        expect(Option.isNone(yield* pendingOf(newAddress))).toBe(true)
      }))

    test("no error or message prints a token or the password", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const { revert, session } = yield* confirmed
        const failures = [
          yield* Effect.flip(h.confirmEmailChange(revert)),
          yield* Effect.flip(h.requestEmailChange({ sessionToken: session.token, password: "x", newEmail: "y" })),
          yield* Effect.flip(h.requestEmailChange({ sessionToken: "A".repeat(43), password, newEmail: newAddress }))
        ]
        const printed = [
          ...failures.flatMap((error) => [String(error), JSON.stringify(error), error.message]),
          ...(yield* messages).map((message) => `${String(message)} ${JSON.stringify(message)}`)
        ].join("\n")
        for (const secret of [revert, Redacted.value(session.token), password]) {
          expect(printed).not.toContain(secret)
        }
      }))
  })
