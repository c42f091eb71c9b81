/**
 * Brute-force throttling, mail send limits, hash upgrades and the password-version guard, parametrised by the
 * store like the behaviour suite: `makeStore` is called once per test and must give a fresh, empty store.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Context,
  Deferred,
  Duration,
  Effect,
  Either,
  Fiber,
  Layer,
  Logger,
  Metric,
  Option,
  Redacted,
  Ref,
  TestClock
} from "effect"
import { createHmac, randomBytes, scryptSync } from "node:crypto"
import { CounterStore } from "../../src/CounterStore.js"
import { Busy } from "../../src/Errors.js"
import * as Metrics from "../../src/Metrics.js"
import type { OutboxStore } from "../../src/OutboxStore.js"
import * as PasswordHasherModule from "../../src/PasswordHasher.js"
import { PasswordHasher } from "../../src/PasswordHasher.js"
import { RecordingEmailSender } from "../../src/RecordingEmailSender.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import type * as UserHarborConfig from "../../src/UserHarborConfig.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { UserStore } from "../../src/UserStore.js"
import {
  alice,
  bob,
  bobPassword,
  clearMessages,
  lastToken,
  loggedIn,
  loginAs,
  messages,
  newPassword,
  password,
  registerVerified,
  storedUser
} from "../support/fixtures.js"

const hmac = (value: string) =>
  createHmac("sha256", Redacted.value(UserHarborTest.testSecretKey)).update(value).digest("hex")

/** The store key of the failure counter of a login name without an account, as the library derives it. */
export const identifierKey = (kind: "username" | "email", key: string) => `login:${hmac(`${kind}:${key}`)}`

/** The store key of the failure counter of a name of an account (standard mode). */
export const accountNameKey = (userId: string, kind: "username" | "email", key: string) =>
  `login:${hmac(`account:${userId}:${kind}:${key}`)}`

/** The store key of an account's failure budget, shared by its names. */
export const budgetKey = (userId: string) => `budget:${hmac(`account:${userId}`)}`

/** The count of the failure budget of the account registered with `email`. */
export const budgetOf = (email: string) =>
  Effect.gen(function*() {
    const user = yield* Effect.flatten(storedUser(email))
    const counters = yield* CounterStore
    return Option.map(yield* counters.getCounter(budgetKey(user.id)), (c) => c.count)
  })

const wrong = "wrong-password-here"

/** Log lines written while `effect` runs. */
export const withLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const logger = Logger.make(({ message }) => {
      lines.push(Array.isArray(message) ? message.join(" ") : String(message))
    })
    const result = yield* Effect.provide(effect, Logger.add(logger))
    return { result, lines }
  })

/**
 * Wraps `inner` so that it counts verifications, and so that once `arm` has run the next `kind` call signals
 * `started` and waits until the effect `arm` returned releases it.
 */
export const instrumented = (inner: PasswordHasher["Type"], kind: "verify" | "hash") =>
  Effect.gen(function*() {
    const verifications = yield* Ref.make(0)
    const started = yield* Deferred.make<void>()
    const gate = yield* Ref.make<Option.Option<Deferred.Deferred<void>>>(Option.none())
    const pause = (call: "verify" | "hash") =>
      call !== kind ? Effect.void : Effect.flatMap(Ref.getAndSet(gate, Option.none()), (armed) =>
        Option.match(armed, {
          onNone: () => Effect.void,
          onSome: (open) => Effect.zipRight(Deferred.succeed(started, undefined), Deferred.await(open))
        }))
    const hasher = PasswordHasher.of({
      hash: (pw) => Effect.zipRight(pause("hash"), inner.hash(pw)),
      verify: (pw, hash) =>
        Ref.update(verifications, (n) => n + 1).pipe(
          Effect.zipRight(pause("verify")),
          Effect.zipRight(inner.verify(pw, hash))
        ),
      needsRehash: inner.needsRehash
    })
    const arm = Effect.gen(function*() {
      const open = yield* Deferred.make<void>()
      yield* Ref.set(gate, Option.some(open))
      return Deferred.succeed(open, undefined)
    })
    return { hasher, verifications, started, arm }
  })

const insecureHasher = Effect.provide(PasswordHasher, PasswordHasherModule.layerInsecureForTesting)

export const throttlingSuite = <E>(
  name: string,
  makeStore: () => Layer.Layer<UserStore | CounterStore | OutboxStore, E>
) =>
  describe(`UserHarbor throttling and hash upgrades (${name})`, () => {
    const test = <A, E2>(
      title: string,
      body: () => Effect.Effect<A, E2, UserHarborTest.StoreServices>,
      options: Partial<UserHarborConfig.Options> = {},
      store: () => Layer.Layer<UserStore | CounterStore | OutboxStore, E> = makeStore
    ) => it.effect(title, () => Effect.provide(body(), UserHarborTest.layerWithStore(store(), options)), 60_000)

    const login = (username: string, pw: string, clientKey?: string) =>
      Effect.flatMap(
        UserHarbor,
        (h) => h.login(clientKey === undefined ? { username, password: pw } : { username, password: pw, clientKey })
      )
    const outcome = <A, E2 extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E2, R>) =>
      Effect.map(Effect.either(effect), Either.match({ onLeft: (e) => e._tag, onRight: () => "ok" }))
    // The outcome, with the wait of a `TooManyAttempts`.
    const outcomeMs = <A, E2 extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E2, R>) =>
      Effect.map(
        Effect.either(effect),
        Either.match({
          onLeft: (e) =>
            "retryAfter" in e && Duration.isDuration(e.retryAfter)
              ? `${e._tag} ${Duration.toMillis(e.retryAfter)}`
              : e._tag,
          onRight: () => "ok"
        })
      )
    const retryAfter = (username: string, pw: string) =>
      Effect.map(
        Effect.flip(login(username, pw)),
        (error) => error._tag === "TooManyAttempts" ? Duration.toMillis(error.retryAfter) : error._tag
      )
    const failTimes = (n: number, username: string) =>
      Effect.forEach(Array.from({ length: n }), () => outcome(login(username, wrong)))

    test("5 failures lock for 30 s (29 s: locked, 30 s: free), doubling to 1 h; 100 disable until a reset", () =>
      Effect.gen(function*() {
        yield* registerVerified(alice)
        expect(yield* failTimes(5, "Alice")).toEqual(Array(5).fill("InvalidCredentials"))
        // Even the right password is refused, without saying whether it was right.
        expect(yield* retryAfter("Alice", password)).toBe(30_000)
        yield* TestClock.adjust("29 seconds")
        expect(yield* retryAfter("Alice", password)).toBe(1000)
        yield* TestClock.adjust("1 second")
        expect(yield* outcome(login("Alice", wrong))).toBe("InvalidCredentials")
        expect(yield* retryAfter("Alice", wrong)).toBe(60_000)
        yield* TestClock.adjust("60 seconds")
        expect(yield* outcome(login("Alice", wrong))).toBe("InvalidCredentials")
        expect(yield* retryAfter("Alice", wrong)).toBe(120_000)
        // Failures 8 to 99: each waits out its lock, which doubles up to the 1 hour cap.
        const locks: Array<number> = []
        for (let failures = 7; failures < 99; failures++) {
          const lock = yield* retryAfter("Alice", wrong)
          if (typeof lock !== "number") return expect.fail(`expected TooManyAttempts, got ${lock}`)
          locks.push(lock)
          yield* TestClock.adjust(Duration.millis(lock))
          expect(yield* outcome(login("Alice", wrong))).toBe("InvalidCredentials")
        }
        expect(locks.slice(0, 6)).toEqual([120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000])
        expect(new Set(locks.slice(5))).toEqual(new Set([3_600_000]))
        expect(yield* budgetOf(alice.email)).toEqual(Option.some(99))
        yield* TestClock.adjust("1 hour")
        expect(yield* outcome(login("Alice", wrong))).toBe("InvalidCredentials") // the 100th
        yield* TestClock.adjust("30 days")
        const disabled = yield* Effect.flip(login("Alice", password))
        expect(disabled._tag).toBe("TooManyAttempts")
        if (disabled._tag === "TooManyAttempts") expect(Duration.isFinite(disabled.retryAfter)).toBe(false)
        // A password reset is the way back.
        const h = yield* UserHarbor
        yield* h.sendPasswordReset(alice.email)
        yield* h.resetPassword({ token: yield* lastToken("PasswordResetEmail", alice.email), newPassword })
        expect(yield* budgetOf(alice.email)).toEqual(Option.none())
        yield* login("Alice", newPassword)
      }))

    test("an unknown username is throttled exactly like a real one", () =>
      Effect.gen(function*() {
        yield* registerVerified(alice)
        const run = (username: string) =>
          Effect.gen(function*() {
            const tags = yield* failTimes(6, username)
            const lock = yield* retryAfter(username, password)
            return { tags, lock }
          })
        const real = yield* run("Alice")
        const unknown = yield* run("Nobody")
        const invalid = yield* run("?")
        expect(unknown).toEqual(real)
        expect(invalid).toEqual(real)
        expect(real.tags).toEqual([...Array(5).fill("InvalidCredentials"), "TooManyAttempts"])
      }))

    test("a success clears the count; the lock answers under the name that failed, the other name is not asked", () =>
      Effect.gen(function*() {
        yield* registerVerified(alice)
        const h = yield* UserHarbor
        yield* failTimes(4, "ALICE") // canonical: the same counter as "Alice"
        yield* login("Alice", password)
        yield* failTimes(4, "Alice")
        expect(yield* outcome(login("Alice", wrong))).toBe("InvalidCredentials")
        expect(yield* outcome(login("Alice", password))).toBe("TooManyAttempts")
        // The address does not show the lock (that would tell that both names belong together), but the account's
        // budget is locked, so its right password is not even checked: the same wrong-password answer.
        expect(yield* outcome(h.login({ email: alice.email, password }))).toBe("InvalidCredentials")
        yield* TestClock.adjust("30 seconds")
        // Once the lock ends, the address works, and its success clears both names.
        yield* h.login({ email: alice.email, password })
        yield* login("Alice", password)
        expect(yield* budgetOf(alice.email)).toEqual(Option.none())
      }))

    test("a client key counts failures across names: 20 within the hour, then locked until the window ends", () =>
      Effect.gen(function*() {
        yield* registerVerified(alice)
        for (let i = 0; i < 20; i++) {
          expect(yield* outcome(login(`Name${i}`, wrong, "203.0.113.7"))).toBe("InvalidCredentials")
        }
        yield* TestClock.adjust("10 minutes")
        expect(yield* outcome(login("Alice", password, "203.0.113.7"))).toBe("TooManyAttempts")
        expect(yield* outcome(login("Alice", password, "198.51.100.1"))).toBe("ok")
        expect(yield* outcome(login("Alice", password))).toBe("ok")
        yield* TestClock.adjust("50 minutes")
        expect(yield* outcome(login("Alice", password, "203.0.113.7"))).toBe("ok")
      }))

    test("sendPasswordReset and resendVerification send at most 3 messages per account per hour", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const recorder = yield* RecordingEmailSender
        yield* registerVerified(alice)
        yield* h.register(bob)
        yield* recorder.clear
        const before = (yield* Metric.value(Metrics.throttled)).count
        for (let i = 0; i < 5; i++) {
          yield* h.sendPasswordReset(alice.email)
          yield* h.resendVerification(bob.email)
        }
        const sent = (yield* recorder.messages).map((m) => `${m._tag} ${m.to.email}`)
        expect(sent.filter((m) => m === "PasswordResetEmail alice@example.com")).toHaveLength(3)
        expect(sent.filter((m) => m === "VerificationEmail bob@example.com")).toHaveLength(3)
        expect((yield* Metric.value(Metrics.throttled)).count).toBe(before + 4)
        // The refused calls issued nothing: the last mailed token is still the live one.
        yield* h.verifyEmail(yield* lastToken("VerificationEmail", bob.email))
        const reset = yield* lastToken("PasswordResetEmail", alice.email)
        yield* TestClock.adjust("1 hour")
        yield* h.sendPasswordReset(alice.email)
        expect((yield* recorder.messages).length).toBe(sent.length + 1)
        expect(yield* lastToken("PasswordResetEmail", alice.email)).not.toEqual(reset)
      }))

    describe("200 concurrent wrong logins against one account", () => {
      const concurrent = (n: number) =>
        Effect.gen(function*() {
          yield* registerVerified(alice)
          return yield* withLogs(
            Effect.all(Array.from({ length: n }, () => outcome(login("Alice", wrong))), { concurrency: "unbounded" })
          )
        })
      const count = budgetOf(alice.email)

      test(
        "with freeFailures 200: all 200 are verified, the counter is exactly 200, one lock event",
        () =>
          Effect.gen(function*() {
            const { lines, result } = yield* concurrent(200)
            expect(result.filter((tag) => tag === "InvalidCredentials")).toHaveLength(200)
            expect(yield* count).toEqual(Option.some(200))
            expect(lines.filter((line) => line === "UserHarbor: login locked")).toHaveLength(1)
            expect(yield* outcome(login("Alice", password))).toBe("TooManyAttempts")
          }),
        { throttle: { freeFailures: 200, disableAfter: 1000 } }
      )

      // Holds every login's first counter read until all 200 have read: every check sees 0 failures, so only the
      // increments can stop the 195 surplus guesses.
      const readTogether = () =>
        Layer.effect(
          CounterStore,
          Effect.gen(function*() {
            const inner = yield* CounterStore
            const reads = yield* Ref.make(0)
            const all = yield* Deferred.make<void>()
            return CounterStore.of({
              ...inner,
              getCounter: (key) =>
                Effect.zipLeft(
                  inner.getCounter(key),
                  Effect.flatMap(
                    Ref.updateAndGet(reads, (n) => n + 1),
                    (n) => n >= 200 ? Deferred.succeed(all, undefined) : n < 200 ? Deferred.await(all) : Effect.void
                  )
                )
            })
          })
        ).pipe(Layer.provideMerge(makeStore())) // the wrapped CounterStore replaces the inner one

      test(
        "with freeFailures 5: exactly 5 guesses are verified, 195 are refused unhashed, one lock event",
        () =>
          Effect.gen(function*() {
            const { lines, result } = yield* concurrent(200)
            expect(result.filter((tag) => tag === "InvalidCredentials")).toHaveLength(5)
            expect(result.filter((tag) => tag === "TooManyAttempts")).toHaveLength(195)
            // Every attempt got past the read, so every one holds its increment of the name's counter; only the 5
            // admitted by it reached the account's budget.
            const user = yield* Effect.flatten(storedUser(alice.email))
            const counters = yield* CounterStore
            const named = yield* counters.getCounter(accountNameKey(user.id, "username", "alice"))
            expect(Option.map(named, (c) => c.count)).toEqual(Option.some(200))
            expect(yield* count).toEqual(Option.some(5))
            expect(lines.filter((line) => line === "UserHarbor: login locked")).toHaveLength(1)
          }),
        { throttle: { disableAfter: 1000 } },
        readTogether
      )
    })

    /** A hasher that records the stored hash of every verification, so a test can count guesses per account. */
    const recordingHasher = Effect.gen(function*() {
      const inner = yield* insecureHasher
      const checked = yield* Ref.make<ReadonlyArray<string>>([])
      const hasher = PasswordHasher.of({
        ...inner,
        verify: (pw, hash) => Effect.zipRight(Ref.update(checked, (all) => [...all, hash]), inner.verify(pw, hash))
      })
      return { hasher, checked }
    })
    const guessesAgainst = (checked: Ref.Ref<ReadonlyArray<string>>, email: string) =>
      Effect.gen(function*() {
        const user = yield* Effect.flatten(storedUser(email))
        return (yield* Ref.get(checked)).filter((hash) => hash === user.passwordHash).length
      })
    const withRecording = <A, E2>(
      options: Partial<UserHarborConfig.Options>,
      body: (checked: Ref.Ref<ReadonlyArray<string>>) => Effect.Effect<A, E2, UserHarborTest.StoreServices>
    ) =>
      Effect.gen(function*() {
        const { checked, hasher } = yield* recordingHasher
        return yield* Effect.provide(
          body(checked),
          UserHarborTest.layerWithStore(makeStore(), options, Layer.succeed(PasswordHasher, hasher))
        )
      })

    it.effect(
      "one failure budget per account, whichever name is typed: disableAfter 3 allows 3 verified guesses, not 6",
      () =>
        withRecording({ throttle: { freeFailures: 3, disableAfter: 3 } }, (checked) =>
          Effect.gen(function*() {
            const h = yield* UserHarbor
            yield* registerVerified(alice)
            for (let round = 0; round < 10; round++) {
              yield* outcome(login("Alice", wrong))
              yield* outcome(h.login({ email: alice.email, password: wrong }))
              yield* TestClock.adjust("1 day")
            }
            expect(yield* guessesAgainst(checked, alice.email)).toBe(3)
            expect(yield* budgetOf(alice.email)).toEqual(Option.some(3))
            // Disabled until a reset, under both names.
            expect(yield* outcome(login("Alice", password))).not.toBe("ok")
            expect(yield* outcome(h.login({ email: alice.email, password }))).not.toBe("ok")
            yield* h.sendPasswordReset(alice.email)
            yield* h.resetPassword({ token: yield* lastToken("PasswordResetEmail", alice.email), newPassword })
            yield* h.login({ email: alice.email, password: newPassword })
          })),
      60_000
    )

    test("failures against names before their account exists never reach it", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const newbie = { username: "Newbie", email: "newbie@example.com", password }
        expect((yield* failTimes(6, "Newbie")).at(-1)).toBe("TooManyAttempts")
        for (let i = 0; i < 6; i++) yield* outcome(h.login({ email: newbie.email, password: wrong }))
        expect(yield* outcome(h.login({ email: newbie.email, password }))).toBe("TooManyAttempts")
        yield* registerVerified(newbie)
        expect(yield* outcome(login("Newbie", password))).toBe("ok")
        expect(yield* outcome(h.login({ email: newbie.email, password }))).toBe("ok")
        // The account's own budget starts at 0: five failures before its lock.
        expect(yield* failTimes(6, "Newbie")).toEqual([...Array(5).fill("InvalidCredentials"), "TooManyAttempts"])
      }))

    it.effect(
      "30 concurrent wrong logins from a client with 7 of 20 failures used: exactly 13 verified, 17 refused",
      () =>
        withRecording({}, (checked) =>
          Effect.gen(function*() {
            for (let i = 0; i < 7; i++) {
              expect(yield* outcome(login(`Sprayed${i}`, wrong, "203.0.113.9"))).toBe("InvalidCredentials")
            }
            yield* Ref.set(checked, [])
            const results = yield* Effect.all(
              Array.from({ length: 30 }, (_, i) => outcome(login(`Target${i}`, wrong, "203.0.113.9"))),
              { concurrency: "unbounded" }
            )
            expect(results.filter((tag) => tag === "InvalidCredentials")).toHaveLength(13)
            expect(results.filter((tag) => tag === "TooManyAttempts")).toHaveLength(17)
            expect((yield* Ref.get(checked)).length).toBe(13)
          })),
      60_000
    )

    test("a success gives the client's slot back", () =>
      Effect.gen(function*() {
        yield* registerVerified(alice)
        for (let i = 0; i < 19; i++) yield* outcome(login(`Name${i}`, wrong, "203.0.113.7"))
        for (let i = 0; i < 3; i++) expect(yield* outcome(login("Alice", password, "203.0.113.7"))).toBe("ok")
        expect(yield* outcome(login("Someone", wrong, "203.0.113.7"))).toBe("InvalidCredentials")
        expect(yield* outcome(login("Alice", password, "203.0.113.7"))).toBe("TooManyAttempts")
      }))

    describe("a login refused as Busy checks no password and counts no failure", () => {
      it.effect(
        "a bounded hasher at capacity: five Busy, then the right password logs in",
        () =>
          Effect.gen(function*() {
            const { arm, hasher, started } = yield* instrumented(yield* insecureHasher, "verify")
            const bounded = yield* PasswordHasherModule.bounded(hasher, { permits: 1, maxQueue: 0 })
            yield* Effect.gen(function*() {
              yield* registerVerified(alice)
              yield* registerVerified(bob)
              const release = yield* arm
              const held = yield* Effect.fork(login(bob.username, bobPassword))
              yield* Deferred.await(started)
              for (let i = 0; i < 5; i++) expect(yield* outcome(login("Alice", password))).toBe("Busy")
              for (let i = 0; i < 5; i++) expect(yield* outcome(login("Alice", wrong, "203.0.113.7"))).toBe("Busy")
              expect(yield* budgetOf(alice.email)).toEqual(Option.none())
              yield* release
              yield* Fiber.join(held)
              expect(yield* outcome(login("Alice", password))).toBe("ok")
            }).pipe(Effect.provide(UserHarborTest.layerWithStore(
              makeStore(),
              {},
              Layer.succeed(PasswordHasher, bounded)
            )))
          }),
        60_000
      )

      it.effect(
        "a hasher that is busy by itself (no admission): five Busy, then the right password logs in",
        () =>
          Effect.gen(function*() {
            const inner = yield* insecureHasher
            const busy = yield* Ref.make(false)
            const hasher = PasswordHasher.of({
              ...inner,
              verify: (pw, hash) =>
                Effect.flatMap(Ref.get(busy), (isBusy) => isBusy ? Effect.fail(new Busy()) : inner.verify(pw, hash))
            })
            yield* Effect.gen(function*() {
              yield* registerVerified(alice)
              yield* Ref.set(busy, true)
              for (let i = 0; i < 5; i++) expect(yield* outcome(login("Alice", password, "203.0.113.7"))).toBe("Busy")
              yield* Ref.set(busy, false)
              expect(yield* budgetOf(alice.email)).toEqual(Option.some(0))
              expect(yield* outcome(login("Alice", password, "203.0.113.7"))).toBe("ok")
              for (let i = 0; i < 5; i++) expect(yield* outcome(login("Alice", wrong))).toBe("InvalidCredentials")
            }).pipe(
              Effect.provide(UserHarborTest.layerWithStore(makeStore(), {}, Layer.succeed(PasswordHasher, hasher)))
            )
          }),
        60_000
      )
    })

    describe("register limits and the notice's mail limit", () => {
      const registerAs = (i: number, email: string, clientKey?: string) =>
        Effect.flatMap(UserHarbor, (h) =>
          h.register({
            username: `Probe${i}`,
            email,
            password,
            ...(clientKey === undefined ? {} : { clientKey })
          }))

      test("register: 10 per client key an hour, counted before any hashing", () =>
        Effect.gen(function*() {
          const results = yield* Effect.forEach(
            Array.from({ length: 11 }, (_, i) => i),
            (i) => outcomeMs(registerAs(i, `client${i}@example.com`, "198.51.100.4"))
          )
          expect(results).toEqual([...Array(10).fill("ok"), "TooManyAttempts 3600000"])
          expect(yield* storedUser("client10@example.com")).toEqual(Option.none())
          expect(yield* outcomeMs(registerAs(11, "client11@example.com", "198.51.100.5"))).toBe("ok")
          yield* TestClock.adjust("1 hour")
          expect(yield* outcomeMs(registerAs(12, "client12@example.com", "198.51.100.4"))).toBe("ok")
        }))

      test("register: 5 per address an hour, the same for a taken and a free address", () =>
        Effect.gen(function*() {
          yield* registerVerified(alice)
          yield* TestClock.adjust("1 hour")
          const taken = yield* Effect.forEach(
            Array.from({ length: 6 }, (_, i) => i),
            (i) => outcomeMs(registerAs(i, alice.email))
          )
          const free = yield* Effect.forEach(
            Array.from({ length: 6 }, (_, i) => i),
            (i) => outcomeMs(registerAs(10 + i, "free@example.com"))
          )
          expect(taken).toEqual([...Array(5).fill("ok"), "TooManyAttempts 3600000"])
          expect(free).toEqual(taken)
        }))

      test(
        "the notice of a registration with a taken address counts on the owner's mail limits",
        () =>
          Effect.gen(function*() {
            const recorder = yield* RecordingEmailSender
            yield* registerVerified(alice)
            yield* recorder.clear
            for (let i = 0; i < 25; i++) yield* registerAs(i, alice.email)
            const notices = (yield* recorder.messages).filter((m) =>
              m._tag === "RegistrationAttemptEmail" && m.to.email === alice.email
            )
            expect(notices).toHaveLength(3)
          }),
        { throttle: { registerAddressLimit: 100 } }
      )

      test("mail limits have a daily window too: 3 an hour, 10 a day", () =>
        Effect.gen(function*() {
          const h = yield* UserHarbor
          const recorder = yield* RecordingEmailSender
          yield* registerVerified(alice)
          yield* recorder.clear
          const sent = Effect.map(recorder.messages, (all) => all.filter((m) => m._tag === "PasswordResetEmail").length)
          const perHour: Array<number> = []
          for (let hour = 0; hour < 8; hour++) {
            const before = yield* sent
            for (let i = 0; i < 5; i++) yield* h.sendPasswordReset(alice.email)
            perHour.push((yield* sent) - before)
            yield* TestClock.adjust("1 hour")
          }
          expect(perHour).toEqual([3, 3, 3, 1, 0, 0, 0, 0])
          yield* TestClock.adjust("16 hours")
          yield* h.sendPasswordReset(alice.email)
          expect(yield* sent).toBe(11)
        }))
    })

    describe("account enumeration by registering, in both modes", () => {
      const probePassword = "a-password-the-prober-chose"
      // Everything a prober can do with an address and a fresh username, and every answer it gets.
      const probe = (email: string, username: string) =>
        Effect.gen(function*() {
          const h = yield* UserHarbor
          const answers: Array<string> = []
          const note = <A, E2 extends { readonly _tag: string }>(what: string, call: Effect.Effect<A, E2>) =>
            Effect.map(outcomeMs(call), (answer) => {
              answers.push(`${what}: ${answer}`)
            })
          const byEmail = (pw: string) => h.login({ email, password: pw })
          const byName = (pw: string) => h.login({ username, password: pw })
          // Lock the address's login name first: does registering lift the lock?
          for (let i = 0; i < 5; i++) yield* note("login email wrong", byEmail(wrong))
          yield* note("register", h.register({ username, email, password: probePassword }))
          yield* note("login email", byEmail(probePassword))
          yield* TestClock.adjust("1 hour")
          yield* note("login username", byName(probePassword))
          yield* note("register same username", h.register({ username, email: `x-${email}`, password }))
          for (let i = 0; i < 6; i++) yield* note("login email", byEmail(probePassword))
          yield* note("resend", h.resendVerification(email))
          yield* note("reset", h.sendPasswordReset(email))
          for (let i = 0; i < 6; i++) yield* note("login username", byName(probePassword))
          yield* note("register again", h.register({ username: `${username}2`, email, password: probePassword }))
          yield* TestClock.adjust("1 hour")
          return answers
        })
      const victim = { username: "Victim", email: "victim@example.com", password }
      const both = Effect.gen(function*() {
        yield* registerVerified(victim)
        yield* clearMessages
        const taken = yield* probe(victim.email, "Prober1")
        const free = yield* probe("nobody@example.com", "Prober2")
        // The victim's own login works once the probes' locks have passed.
        yield* TestClock.adjust("1 day")
        expect(yield* outcome(loginAs(victim))).toBe("ok")
        // The prober receives no mail either way; the victim got the notices.
        const mail = yield* messages
        expect(mail.filter((m) => m.to.email === victim.email).map((m) => m._tag)).toContain(
          "RegistrationAttemptEmail"
        )
        return { taken, free }
      })

      test("standard: the register-then-login probe tells a taken address from a free one", () =>
        Effect.gen(function*() {
          const { free, taken } = yield* both
          expect(free).not.toEqual(taken)
          expect(free).toContain("login username: EmailNotVerified")
          expect(taken).not.toContain("login username: EmailNotVerified")
          expect(taken).toContain("login username: InvalidCredentials")
          expect(free).toContain("register same username: UsernameTaken")
          expect(taken).toContain("register same username: ok")
        }))

      test(
        "strict: every answer of every probe is the same for a taken and a free address",
        () =>
          Effect.gen(function*() {
            const { free, taken } = yield* both
            expect(taken).toEqual(free)
            expect(free).toContain("login username: InvalidCredentials")
            expect(free).toContain("register same username: UsernameTaken")
            expect(free).not.toContain("login username: EmailNotVerified")
            expect(free).not.toContain("login email: EmailNotVerified")
          }),
        { enumeration: "strict" }
      )

      test(
        "strict: an unverified account logs in only after verifying, and its failures are forgiven then",
        () =>
          Effect.gen(function*() {
            const h = yield* UserHarbor
            yield* h.register(alice)
            const tries = yield* Effect.forEach(Array.from({ length: 6 }), () => outcome(loginAs(alice)))
            expect(tries).toEqual([...Array(5).fill("InvalidCredentials"), "TooManyAttempts"])
            yield* h.verifyEmail(yield* lastToken("VerificationEmail", alice.email))
            expect(yield* outcome(loginAs(alice))).toBe("ok")
          }),
        { enumeration: "strict" }
      )
    })

    test("throttling can be turned off", () =>
      Effect.gen(function*() {
        yield* registerVerified(alice)
        expect(yield* failTimes(30, "Alice")).toEqual(Array(30).fill("InvalidCredentials"))
        yield* login("Alice", password)
      }), { throttle: { enabled: false } })

    // Tests that need an instrumented hasher.
    const withHasher = <A, E2>(
      kind: "verify" | "hash",
      body: (
        tools: Effect.Effect.Success<ReturnType<typeof instrumented>>
      ) => Effect.Effect<A, E2, UserHarborTest.StoreServices>
    ) =>
      Effect.gen(function*() {
        const tools = yield* instrumented(yield* insecureHasher, kind)
        return yield* Effect.provide(
          body(tools),
          UserHarborTest.layerWithStore(makeStore(), {}, Layer.succeed(PasswordHasher, tools.hasher))
        )
      })

    it.effect(
      "a throttled attempt runs no argon2 verification",
      () =>
        withHasher("verify", ({ verifications }) =>
          Effect.gen(function*() {
            yield* registerVerified(alice)
            yield* failTimes(5, "Nobody")
            yield* Ref.set(verifications, 0)
            const before = (yield* Metric.value(Metrics.throttled)).count
            expect(yield* outcome(login("Nobody", password))).toBe("TooManyAttempts")
            expect(yield* Ref.get(verifications)).toBe(0)
            expect((yield* Metric.value(Metrics.throttled)).count).toBe(before + 1)
          })),
      60_000
    )

    describe("password re-checks (changePassword, deleteAccount) on the account's own counter", () => {
      const reauthKey = Effect.map(Effect.flatten(storedUser(alice.email)), (user) => `reauth:${user.id}`)
      const reauthCount = Effect.flatMap(
        CounterStore,
        (counters) =>
          Effect.flatMap(reauthKey, (key) => Effect.map(counters.getCounter(key), Option.map((c) => c.count)))
      )
      const change = (sessionToken: Redacted.Redacted<string>, oldPassword: string, to = newPassword) =>
        Effect.flatMap(UserHarbor, (h) => h.changePassword({ sessionToken, oldPassword, newPassword: to }))
      const remove = (sessionToken: Redacted.Redacted<string>, pw: string) =>
        Effect.flatMap(UserHarbor, (h) => h.deleteAccount({ sessionToken, password: pw }))
      // Alternates the two operations: they share the counter.
      const either = (i: number, sessionToken: Redacted.Redacted<string>, pw: string) =>
        i % 2 === 0 ? outcome(change(sessionToken, pw)) : outcome(remove(sessionToken, pw))
      const lockOf = <A, R>(effect: Effect.Effect<A, { readonly _tag: string }, R>) =>
        Effect.map(
          Effect.flip(effect),
          (error) =>
            error._tag === "TooManyAttempts" && "retryAfter" in error && Duration.isDuration(error.retryAfter)
              ? Duration.toMillis(error.retryAfter)
              : error._tag
        )

      it.effect(
        "5 failures lock both for 30 s without hashing, the lock doubles, and a correct password clears",
        () =>
          withHasher("verify", ({ verifications }) =>
            Effect.gen(function*() {
              const session = yield* loggedIn(alice)
              const failures = yield* Effect.forEach(
                Array.from({ length: 5 }),
                (_, i) => either(i, session.token, wrong)
              )
              expect(failures).toEqual(Array(5).fill("InvalidCredentials"))
              expect(yield* reauthCount).toEqual(Option.some(5))
              yield* Ref.set(verifications, 0)
              // Locked: even the right password is refused, and no argon2 verification runs.
              expect(yield* lockOf(change(session.token, password))).toBe(30_000)
              expect(yield* lockOf(remove(session.token, password))).toBe(30_000)
              expect(yield* Ref.get(verifications)).toBe(0)
              expect(Option.isSome(yield* storedUser(alice.email))).toBe(true)
              // The login counters are separate: the lock neither comes from them nor reaches them.
              expect(yield* outcome(login("Alice", password))).toBe("ok")
              yield* TestClock.adjust("29 seconds")
              expect(yield* lockOf(change(session.token, password))).toBe(1000)
              yield* TestClock.adjust("1 second")
              expect(yield* outcome(change(session.token, wrong))).toBe("InvalidCredentials")
              expect(yield* lockOf(change(session.token, password))).toBe(60_000)
              yield* TestClock.adjust("60 seconds")
              const fresh = yield* change(session.token, password)
              expect(yield* reauthCount).toEqual(Option.none())
              // Cleared: five more free failures, then locked again.
              const again = yield* Effect.forEach(Array.from({ length: 6 }), () => outcome(remove(fresh.token, wrong)))
              expect(again).toEqual([...Array(5).fill("InvalidCredentials"), "TooManyAttempts"])
            })),
        60_000
      )

      test("failed logins do not lock the re-check, and a password reset clears a locked one", () =>
        Effect.gen(function*() {
          const session = yield* loggedIn(alice)
          yield* failTimes(6, "Alice")
          expect(yield* outcome(login("Alice", password))).toBe("TooManyAttempts")
          for (let i = 0; i < 5; i++) expect(yield* outcome(remove(session.token, wrong))).toBe("InvalidCredentials")
          expect(yield* outcome(remove(session.token, password))).toBe("TooManyAttempts")
          expect(yield* reauthCount).toEqual(Option.some(5))
          const h = yield* UserHarbor
          yield* h.sendPasswordReset(alice.email)
          yield* h.resetPassword({ token: yield* lastToken("PasswordResetEmail", alice.email), newPassword })
          expect(yield* reauthCount).toEqual(Option.none())
          const fresh = yield* login("Alice", newPassword)
          yield* remove(fresh.token, newPassword)
          expect(yield* storedUser(alice.email)).toEqual(Option.none())
        }))

      it.effect(
        "20 concurrent wrong re-checks: exactly 5 are verified, 15 refused unhashed",
        () =>
          withHasher("verify", ({ verifications }) =>
            Effect.gen(function*() {
              const session = yield* loggedIn(alice)
              yield* Ref.set(verifications, 0)
              const { lines, result } = yield* withLogs(Effect.all(
                Array.from({ length: 20 }, (_, i) => either(i, session.token, wrong)),
                { concurrency: "unbounded" }
              ))
              expect(result.filter((tag) => tag === "InvalidCredentials")).toHaveLength(5)
              expect(result.filter((tag) => tag === "TooManyAttempts")).toHaveLength(15)
              expect(yield* Ref.get(verifications)).toBe(5)
              expect(lines.filter((line) => line === "UserHarbor: password re-check locked")).toHaveLength(1)
            })),
        60_000
      )
    })

    it.effect(
      "a login whose password is reset while it verifies creates no session and fails",
      () =>
        withHasher("verify", ({ arm, started }) =>
          Effect.gen(function*() {
            const h = yield* UserHarbor
            const store = yield* UserStore
            yield* registerVerified(alice)
            yield* h.sendPasswordReset(alice.email)
            const token = yield* lastToken("PasswordResetEmail", alice.email)
            const release = yield* arm
            const fiber = yield* Effect.fork(Effect.either(login("Alice", password)))
            yield* Deferred.await(started)
            yield* h.resetPassword({ token, newPassword })
            yield* release
            const result = yield* Fiber.join(fiber)
            expect(Either.isLeft(result) && result.left._tag).toBe("InvalidCredentials")
            const user = yield* Effect.flatten(storedUser(alice.email))
            expect(yield* store.deleteUserSessions(user.id)).toBe(0)
            yield* login("Alice", newPassword)
          })),
      60_000
    )

    // Hashes made by the insecure test hasher (m=256, t=1) are below the upgrade hasher's parameters.
    const upgrade = { memoryCost: 7168, timeCost: 5, parallelism: 1 }
    const upgradeParams = /\$m=7168,t=5,p=1\$/
    const upgradeHasher = Effect.provide(PasswordHasher, PasswordHasherModule.layer(upgrade)).pipe(Effect.orDie)

    /** Two kits on one store: the insecure one (as before an upgrade) and one around `hasher`. */
    const twoKits = Effect.gen(function*() {
      // Built once in the test's scope, so that both kits use one database.
      const built = yield* Layer.build(makeStore()).pipe(Effect.orDie)
      const store = Context.get(built, UserStore)
      const shared = Layer.succeedContext(built)
      const stored = Effect.flatten(storedUser(alice.email)).pipe(Effect.provideService(UserStore, store))
      // Each kit is built once: a rebuilt kit would replay its deterministic ids and tokens into the shared store.
      // The two kits share a seed, but draw ids and tokens at different positions of it in these tests.
      return {
        stored,
        old: yield* Layer.build(UserHarborTest.layerWithStore(shared)),
        withHasher: (hasher: PasswordHasher["Type"]) =>
          Layer.build(UserHarborTest.layerWithStore(shared, {}, Layer.succeed(PasswordHasher, hasher)))
      }
    })

    it.effect(
      "a login with a hash made at other parameters stores a rehash at the current ones, once",
      () =>
        Effect.gen(function*() {
          const { old, stored, withHasher } = yield* twoKits
          yield* registerVerified(alice).pipe(Effect.provide(old))
          const before = yield* stored
          const upgraded = yield* withHasher(yield* upgradeHasher)
          yield* login("Alice", password).pipe(Effect.provide(upgraded))
          const after = yield* stored
          expect(before.passwordHash).not.toMatch(upgradeParams)
          expect(after.passwordHash).toMatch(upgradeParams)
          // Same password, so the version stays: a login verifying it at this moment still gets its session.
          expect(after.passwordVersion).toBe(before.passwordVersion)
          yield* login("Alice", password).pipe(Effect.provide(upgraded))
          expect((yield* stored).passwordHash).toBe(after.passwordHash)
        }).pipe(Effect.scoped),
      60_000
    )

    test("an imported scrypt hash logs in and is upgraded to argon2id on that login", () =>
      Effect.gen(function*() {
        yield* registerVerified(alice)
        const store = yield* UserStore
        const user = yield* Effect.flatten(storedUser(alice.email))
        const salt = randomBytes(16)
        const key = scryptSync(password, salt, 32, { N: 2 ** 12, r: 8, p: 1 })
        const imported = `$scrypt$ln=12,r=8,p=1$${salt.toString("base64")}$${key.toString("base64")}`
        yield* store.updatePassword({ userId: user.id, passwordHash: imported })
        expect(yield* outcome(login("Alice", wrong))).toBe("InvalidCredentials")
        expect((yield* Effect.flatten(storedUser(alice.email))).passwordHash).toBe(imported)
        yield* login("Alice", password)
        const upgraded = yield* Effect.flatten(storedUser(alice.email))
        expect(upgraded.passwordHash.startsWith("$argon2id$")).toBe(true)
        yield* login("Alice", password)
      }))

    it.effect("a password change that commits while the upgrade hash runs wins", () =>
      Effect.gen(function*() {
        const { old, stored, withHasher } = yield* twoKits
        const session = yield* Effect.zipRight(registerVerified(alice), login("Alice", password)).pipe(
          Effect.provide(old)
        )
        const { arm, hasher, started } = yield* instrumented(yield* upgradeHasher, "hash")
        yield* Effect.scoped(Effect.gen(function*() {
          // Built first, so that its dummy hash is not the call the gate stops.
          const upgraded = yield* withHasher(hasher)
          const release = yield* arm
          const fiber = yield* Effect.fork(Effect.provide(login("Alice", password), upgraded))
          yield* Deferred.await(started)
          yield* Effect.flatMap(
            UserHarbor,
            (h) => h.changePassword({ sessionToken: session.token, oldPassword: password, newPassword })
          ).pipe(
            Effect.provide(old)
          )
          yield* release
          yield* Fiber.join(fiber)
        }))
        expect((yield* stored).passwordHash).not.toMatch(upgradeParams)
        expect(yield* outcome(login("Alice", newPassword).pipe(Effect.provide(old)))).toBe("ok")
        expect(yield* outcome(login("Alice", password).pipe(Effect.provide(old)))).toBe("InvalidCredentials")
      }).pipe(Effect.scoped), 60_000)

    it.effect(
      "a login that verified the password gets its session even if another login upgraded the hash",
      () =>
        Effect.gen(function*() {
          const { old, stored, withHasher } = yield* twoKits
          yield* registerVerified(alice).pipe(Effect.provide(old))
          const { arm, hasher, started } = yield* instrumented(yield* upgradeHasher, "verify")
          const first = yield* Effect.scoped(Effect.gen(function*() {
            const paused = yield* withHasher(hasher)
            const release = yield* arm
            // The first login has read the user and is verifying (version v) when the second one upgrades the hash.
            const fiber = yield* Effect.fork(Effect.provide(outcome(login("Alice", password)), paused))
            yield* Deferred.await(started)
            // The gate stops only the first verification: this login runs through, and upgrades the hash.
            expect(yield* outcome(login("Alice", password).pipe(Effect.provide(paused)))).toBe("ok")
            expect((yield* stored).passwordHash).toMatch(upgradeParams)
            yield* release
            return yield* Fiber.join(fiber)
          }))
          expect(first).toBe("ok")
        }).pipe(Effect.scoped),
      60_000
    )
  })
