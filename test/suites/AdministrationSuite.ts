/**
 * Account administration through the public services (`UserHarborAdmin` beside `UserHarbor`), parametrised by the
 * store so the same cases run on the memory store and on every SQL backend: locks and what they do to logins and
 * sessions, the other admin actions, the directory's pages and filters, and the security events each records.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Option, Queue, Redacted, TestClock } from "effect"
import { Secret, TOTP } from "otpauth"
import type { AccountAdminStore } from "../../src/AccountAdminStore.js"
import type { CounterStore } from "../../src/CounterStore.js"
import {
  AccountLocked,
  InvalidAdminInput,
  InvalidCredentials,
  InvalidSession,
  TooManyAttempts,
  UserNotFound
} from "../../src/Errors.js"
import type { FactorStore } from "../../src/FactorStore.js"
import type { OutboxStore } from "../../src/OutboxStore.js"
import type { PublishedEvent } from "../../src/SecurityEvent.js"
import * as SecurityEvents from "../../src/SecurityEvents.js"
import * as SessionCache from "../../src/SessionCache.js"
import type { UserId } from "../../src/User.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborAdmin from "../../src/UserHarborAdmin.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import type { UserStore } from "../../src/UserStore.js"
import {
  alice,
  bob,
  lastToken,
  loggedIn,
  loginAs,
  newPassword,
  password,
  registerVerified,
  storedUser
} from "../support/fixtures.js"

type Store = UserStore | CounterStore | OutboxStore | FactorStore | AccountAdminStore
type Services = UserHarborTest.StoreServices | Store | UserHarborAdmin.UserHarborAdmin | SecurityEvents.SecurityEvents

const start = Date.UTC(2026, 0, 1)
const actorId = "ops-jane"

const admin = UserHarborAdmin.UserHarborAdmin

/** Alice's id, as an operator would copy it from `findUser`. */
const idOf = (email: string) => Effect.map(Effect.flatten(storedUser(email)), (user) => user.id)

/** What `body` published on the feed, in order. */
const published = <A, E, R>(body: Effect.Effect<A, E, R>) =>
  Effect.scoped(Effect.gen(function*() {
    const queue = yield* Effect.flatMap(SecurityEvents.SecurityEvents, (feed) => feed.subscribe)
    const result = yield* body
    const events: ReadonlyArray<PublishedEvent> = Chunk.toReadonlyArray(yield* Queue.takeAll(queue))
    return [result, events] as const
  }))

const codeNow = (secret: Redacted.Redacted<string>) =>
  Effect.clockWith((clock) =>
    Effect.map(
      clock.currentTimeMillis,
      (timestamp) => TOTP.generate({ secret: Secret.fromBase32(Redacted.value(secret)), timestamp })
    )
  )

export const administrationSuite = <E>(name: string, makeStore: () => Layer.Layer<Store, E>) =>
  describe(`administration (${name})`, () => {
    const build = (store: Layer.Layer<Store, E>) =>
      UserHarborAdmin.layer.pipe(
        Layer.provideMerge(UserHarborTest.layerWithStore(store)),
        Layer.provideMerge(SecurityEvents.layer())
      )
    const test = <A, E2>(title: string, body: () => Effect.Effect<A, E2, Services>) =>
      it.effect(title, () => Effect.provide(Effect.zipRight(TestClock.setTime(start), body()), build(makeStore())))

    test("lock: every session ends at once; login refused only after the right password; events", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const a = yield* admin
        const first = yield* loggedIn(alice)
        const second = yield* loginAs(alice)
        const bobSession = yield* loggedIn(bob)
        const userId = yield* idOf(alice.email)
        const [locked, events] = yield* published(a.lock({ userId, reason: "chargeback fraud", actorId }))
        expect(locked).toBe(true)
        expect(events.map((event) => event._tag)).toEqual(["AccountLocked"])
        expect(events[0]).toMatchObject({ userId, reason: "chargeback fraud", actorId: Option.some(actorId) })
        for (const session of [first, second]) {
          expect(yield* Effect.flip(h.validateSession(session.token))).toEqual(
            new InvalidSession({ reason: "unknown" })
          )
        }
        // Another account is untouched.
        expect((yield* h.getCurrentUser(bobSession.token)).username).toBe("Bob")
        // A guesser learns nothing: a wrong password answers as for any account.
        expect(yield* Effect.flip(h.login({ username: alice.username, password: "wrong-password-guess-1" })))
          .toEqual(new InvalidCredentials())
        const [refusal, refused] = yield* published(
          Effect.flip(h.login({ email: alice.email, password, clientKey: "203.0.113.9" }))
        )
        expect(refusal).toEqual(new AccountLocked())
        expect(refused.map((event) => event._tag)).toEqual(["LoginFailed"])
        expect(refused[0]).toMatchObject({ userId, reason: "locked", clientKey: Option.some("203.0.113.9") })
        const found = yield* a.findUser({ username: "ALICE" })
        expect(found.user.id).toBe(userId)
        expect(found.lock).toEqual(Option.some({ reason: "chargeback fraud", lockedAt: new Date(start), actorId }))
        // A second lock changes nothing and records nothing.
        const [again, none] = yield* published(a.lock({ userId, reason: "another", actorId: "ops-joe" }))
        expect(again).toBe(false)
        expect(none).toEqual([])
        expect((yield* a.findUser({ id: userId })).lock).toEqual(found.lock)
      }))

    test("unlock: logins work again; a second unlock answers false", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const a = yield* admin
        yield* registerVerified(alice)
        const userId = yield* idOf(alice.email)
        yield* a.lock({ userId, reason: "investigation", actorId })
        const [unlocked, events] = yield* published(a.unlock({ userId, actorId }))
        expect(unlocked).toBe(true)
        expect(events.map((event) => event._tag)).toEqual(["AccountUnlocked"])
        expect(events[0]).toMatchObject({ userId, actorId: Option.some(actorId) })
        const session = yield* loginAs(alice)
        expect((yield* h.getCurrentUser(session.token)).username).toBe("Alice")
        expect(yield* a.unlock({ userId, actorId })).toBe(false)
        expect((yield* a.findUser({ email: "Alice@Example.com" })).lock).toEqual(Option.none())
      }))

    test("a locked account with a second factor: no challenge at login; a challenge issued before the lock is refused", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const a = yield* admin
        const session = yield* loggedIn(alice)
        const enrollment = yield* h.beginTotpEnrollment({ sessionToken: session.token, password })
        yield* h.confirmTotpEnrollment({ sessionToken: session.token, code: yield* codeNow(enrollment.secret) })
        yield* TestClock.adjust("30 seconds")
        const step = yield* Effect.flip(h.login({ username: alice.username, password }))
        expect(step._tag).toBe("SecondFactorRequired")
        if (step._tag !== "SecondFactorRequired") return
        const userId = yield* idOf(alice.email)
        yield* a.lock({ userId, reason: "stolen phone", actorId })
        const refused = h.completeLogin({ challenge: step.challenge, code: yield* codeNow(enrollment.secret) })
        expect(yield* Effect.flip(refused)).toEqual(new AccountLocked())
        expect(yield* Effect.flip(h.login({ username: alice.username, password }))).toEqual(new AccountLocked())
      }))

    test("password reset on a locked account is allowed; the account still cannot log in", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const a = yield* admin
        yield* registerVerified(alice)
        const userId = yield* idOf(alice.email)
        yield* a.lock({ userId, reason: "pending review", actorId })
        yield* h.sendPasswordReset(alice.email)
        yield* h.resetPassword({ token: yield* lastToken("PasswordResetEmail", alice.email), newPassword })
        expect(yield* Effect.flip(h.login({ username: alice.username, password: newPassword })))
          .toEqual(new AccountLocked())
        expect(yield* Effect.flip(h.login({ username: alice.username, password }))).toEqual(new InvalidCredentials())
        yield* a.unlock({ userId, actorId })
        yield* h.login({ username: alice.username, password: newPassword })
      }))

    test("logins racing a lock: once the lock is in, no session of the account is alive", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const a = yield* admin
        yield* registerVerified(alice)
        const userId = yield* idOf(alice.email)
        for (let round = 0; round < 5; round++) {
          const logins = Array.from({ length: 4 }, () => Effect.either(loginAs(alice)))
          const [results] = yield* Effect.all([
            Effect.all(logins, { concurrency: "unbounded" }),
            a.lock({ userId, reason: `round ${round}`, actorId })
          ], { concurrency: "unbounded" })
          for (const result of results) {
            if (result._tag === "Left") {
              expect(result.left).toEqual(new AccountLocked())
              continue
            }
            expect(yield* Effect.flip(h.validateSession(result.right.token))).toEqual(
              new InvalidSession({ reason: "unknown" })
            )
          }
          yield* a.unlock({ userId, actorId })
        }
      }))

    test("endSessions ends them all and counts them; the account can log in again", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const a = yield* admin
        const first = yield* loggedIn(alice)
        yield* loginAs(alice)
        const userId = yield* idOf(alice.email)
        const [count, events] = yield* published(a.endSessions({ userId, actorId }))
        expect(count).toBe(2)
        expect(events[0]).toMatchObject({
          _tag: "SessionsEndedByAdmin",
          userId,
          count: 2,
          actorId: Option.some(actorId)
        })
        expect(yield* Effect.flip(h.validateSession(first.token))).toEqual(new InvalidSession({ reason: "unknown" }))
        expect(yield* a.endSessions({ userId, actorId })).toBe(0)
        yield* loginAs(alice)
      }))

    test("markVerified: the account logs in without its link, which is void; once", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const a = yield* admin
        yield* h.register(alice)
        const link = yield* lastToken("VerificationEmail", alice.email)
        const userId = yield* idOf(alice.email)
        const [changed, events] = yield* published(a.markVerified({ userId, actorId }))
        expect(changed).toBe(true)
        expect(events[0]).toMatchObject({ _tag: "AccountVerifiedByAdmin", userId, actorId: Option.some(actorId) })
        expect((yield* a.findUser({ id: userId })).user.verified).toBe(true)
        yield* loginAs(alice)
        expect((yield* Effect.flip(h.verifyEmail(link)))._tag).toBe("InvalidToken")
        expect(yield* a.markVerified({ userId, actorId })).toBe(false)
      }))

    test("deleteUser removes the account with its sessions and lock; AccountDeleted names the admin", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const a = yield* admin
        const session = yield* loggedIn(alice)
        const userId = yield* idOf(alice.email)
        yield* a.lock({ userId, reason: "spam", actorId })
        const [, events] = yield* published(a.deleteUser({ userId, actorId: "ops-joe" }))
        expect(events[0]).toMatchObject({ _tag: "AccountDeleted", userId, actorId: Option.some("ops-joe") })
        expect(yield* Effect.flip(a.findUser({ id: userId }))).toEqual(new UserNotFound())
        expect(yield* Effect.flip(h.validateSession(session.token))).toEqual(new InvalidSession({ reason: "unknown" }))
        expect(yield* Effect.flip(a.deleteUser({ userId, actorId }))).toEqual(new UserNotFound())
        // The address is free again, for a new account that is not locked.
        yield* registerVerified(alice)
        yield* loginAs(alice)
      }))

    test("clearThrottle lifts a login lock earned by wrong passwords", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const a = yield* admin
        yield* registerVerified(alice)
        const guess = h.login({ username: alice.username, password: "wrong-password-guess-1" })
        let throttled = false
        for (let i = 0; i < 30 && !throttled; i++) throttled = (yield* Effect.flip(guess))._tag === "TooManyAttempts"
        expect(throttled).toBe(true)
        expect(yield* Effect.flip(loginAs(alice))).toBeInstanceOf(TooManyAttempts)
        const userId = yield* idOf(alice.email)
        const [, events] = yield* published(a.clearThrottle({ userId, actorId }))
        expect(events[0]).toMatchObject({ _tag: "ThrottleCleared", userId, actorId: Option.some(actorId) })
        yield* loginAs(alice)
      }))

    test("findUser by id, username or address; unknown, malformed and invalid ones are UserNotFound", () =>
      Effect.gen(function*() {
        const a = yield* admin
        yield* registerVerified(alice)
        const userId = yield* idOf(alice.email)
        for (const lookup of [{ id: userId }, { username: "ALICE" }, { email: "ALICE@example.COM" }]) {
          const found = yield* a.findUser(lookup)
          expect(found.user).toMatchObject({ id: userId, username: "Alice", email: alice.email, verified: true })
          expect(found.lock).toEqual(Option.none())
          expect(found.user).not.toHaveProperty("passwordHash")
        }
        for (
          const lookup of [
            { id: "0".repeat(32) },
            { id: "not an id \u0000 é" },
            { username: "nobody" },
            { username: "x" },
            { email: "nobody@example.com" },
            { email: "not an address" }
          ]
        ) {
          expect(yield* Effect.flip(a.findUser(lookup))).toEqual(new UserNotFound())
        }
      }))

    test("changes refuse an invalid actor or reason, and an unknown user, and change nothing", () =>
      Effect.gen(function*() {
        const a = yield* admin
        yield* registerVerified(alice)
        const userId = yield* idOf(alice.email)
        expect(yield* Effect.flip(a.lock({ userId, reason: "x", actorId: "  " })))
          .toEqual(new InvalidAdminInput({ field: "actorId" }))
        expect(yield* Effect.flip(a.lock({ userId, reason: "x", actorId: "a".repeat(201) })))
          .toEqual(new InvalidAdminInput({ field: "actorId" }))
        expect(yield* Effect.flip(a.lock({ userId, reason: " ", actorId })))
          .toEqual(new InvalidAdminInput({ field: "reason" }))
        expect(yield* Effect.flip(a.lock({ userId, reason: "r".repeat(501), actorId })))
          .toEqual(new InvalidAdminInput({ field: "reason" }))
        expect(yield* Effect.flip(a.lock({ userId: "f".repeat(32), reason: "x", actorId })))
          .toEqual(new UserNotFound())
        expect((yield* a.findUser({ id: userId })).lock).toEqual(Option.none())
        // The longest allowed, in a script other than Latin, is stored as given (trimmed).
        const reason = "ü".repeat(500)
        expect(yield* a.lock({ userId, reason: ` ${reason} `, actorId: "é".repeat(200) })).toBe(true)
        expect((yield* a.findUser({ id: userId })).lock).toEqual(
          Option.some({ reason, lockedAt: new Date(start), actorId: "é".repeat(200) })
        )
      }))

    test("listUsers: pages cover every user exactly once while users register; filters", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const a = yield* admin
        const user = (i: number) => ({ username: `user${i}`, email: `user${i}@example.com`, password })
        for (let i = 0; i < 9; i++) {
          // Three at each instant, so ties on the creation time are broken by id.
          if (i % 3 === 0) yield* TestClock.adjust("1 minute")
          yield* (i % 2 === 0 ? registerVerified(user(i)) : h.register(user(i)))
        }
        const present = (yield* a.listUsers({ limit: 1000 })).users.map((entry) => entry.user.id)
        expect(present).toHaveLength(9)
        const seen: Array<UserId> = []
        let cursor: string | undefined
        for (let page = 0, added = 100; page < 100; page++) {
          const result = yield* a.listUsers({ limit: 2, cursor })
          seen.push(...result.users.map((entry) => entry.user.id))
          if (Option.isNone(result.nextCursor)) break
          cursor = result.nextCursor.value
          yield* h.register(user(added++))
        }
        for (const id of present) expect(seen.filter((seenId) => seenId === id)).toHaveLength(1)
        expect(new Set(seen).size).toBe(seen.length)

        const everyone = (yield* a.listUsers({ limit: 1000 })).users
        const createdAt = everyone.map((entry) => entry.user.createdAt.getTime())
        expect(createdAt).toEqual([...createdAt].sort((x, y) => x - y))
        const [first, second] = [everyone[0]!, everyone[3]!]
        yield* a.lock({ userId: first.user.id, reason: "test", actorId })
        const ids = (input: UserHarborAdmin.ListUsersInput) =>
          Effect.map(a.listUsers({ limit: 1000, ...input }), (page) => page.users.map((entry) => entry.user.id))
        expect(yield* ids({ locked: true })).toEqual([first.user.id])
        expect(yield* ids({ locked: false })).not.toContain(first.user.id)
        const verified = everyone.filter((entry) => entry.user.verified).map((entry) => entry.user.id)
        expect(yield* ids({ verified: true })).toEqual(verified)
        expect((yield* ids({ verified: false })).length).toBe(everyone.length - verified.length)
        expect(yield* ids({ createdBefore: second.user.createdAt })).toEqual(everyone.slice(0, 3).map((e) => e.user.id))
        expect(yield* ids({ createdAfter: first.user.createdAt, createdBefore: new Date(start + 3 * 60_000) }))
          .toEqual(everyone.slice(3, 6).map((e) => e.user.id))
        const lockedEntry = (yield* a.listUsers({ locked: true })).users[0]
        expect(lockedEntry?.lock).toEqual(
          Option.some({ reason: "test", lockedAt: new Date(start + 3 * 60_000), actorId })
        )
        expect(Option.isNone((yield* a.listUsers({ limit: 1000 })).nextCursor)).toBe(true)
      }))

    test("listUsers refuses a cursor it did not make and a limit out of range", () =>
      Effect.gen(function*() {
        const a = yield* admin
        for (const cursor of ["", "nope", "W10", Buffer.from("[1,2]").toString("base64url")]) {
          expect(yield* Effect.flip(a.listUsers({ cursor }))).toEqual(new InvalidAdminInput({ field: "cursor" }))
        }
        for (const limit of [0, -1, 1.5, 1001, Number.NaN]) {
          expect(yield* Effect.flip(a.listUsers({ limit }))).toEqual(new InvalidAdminInput({ field: "limit" }))
        }
        expect(yield* Effect.flip(a.listUsers({ createdAfter: new Date(Number.NaN) })))
          .toEqual(new InvalidAdminInput({ field: "createdAfter" }))
        expect(yield* a.listUsers({})).toEqual({ users: [], nextCursor: Option.none() })
      }))

    it.effect("with a SessionCache over the store, a lock ends cached sessions at once", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(start)
        const h = yield* UserHarbor
        const a = yield* admin
        const session = yield* loggedIn(alice)
        yield* h.validateSession(session.token)
        yield* h.validateSession(session.token)
        yield* a.lock({ userId: yield* idOf(alice.email), reason: "cached", actorId })
        expect(yield* Effect.flip(h.validateSession(session.token))).toEqual(new InvalidSession({ reason: "unknown" }))
      }).pipe(
        Effect.provide(build(SessionCache.layer({ ttl: "1 hour" }).pipe(Layer.provideMerge(makeStore()))))
      ))
  })
