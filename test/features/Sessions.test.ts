/**
 * The session policy under settings other than the defaults: the per-user cap, short idle and absolute timeouts,
 * a shortened absolute timeout applied to sessions issued before the change, the settings themselves, and the
 * renewal arithmetic as properties. The store-dependent cases run on memory, SQLite, and PostgreSQL and MariaDB when
 * their URLs are set. The default policy is covered by the behaviour suite (`suites/UserHarborSuite.ts`).
 */
import { describe, expect, it } from "@effect/vitest"
import {
  ConfigError,
  ConfigProvider,
  Duration,
  Effect,
  FastCheck as fc,
  Layer,
  Option,
  Redacted,
  Ref,
  TestClock
} from "effect"
import type { CounterStore } from "../../src/CounterStore.js"
import { InvalidSession, StoreError } from "../../src/Errors.js"
import * as SessionPolicy from "../../src/internal/sessionPolicy.js"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import type { OutboxStore } from "../../src/OutboxStore.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import { SessionId, UserId } from "../../src/User.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { TokenHash, UserStore } from "../../src/UserStore.js"
import { alice, bob, loggedIn, loginAs, newPassword, password, storedSession } from "../support/fixtures.js"
import { describeOn, mysqlStore, pgStore } from "../support/sqlDatabases.js"

const hour = Duration.toMillis("1 hour")
const minute = Duration.toMillis("1 minute")
const day = Duration.toMillis("1 day")
const expired = new InvalidSession({ reason: "expired" })

/** Runs on every store given: a fresh store per test, the harbor configured with `options`. */
const sessionPolicySuite = <E>(name: string, makeStore: () => Layer.Layer<UserStore | CounterStore | OutboxStore, E>) =>
  describe(`session policy (${name})`, () => {
    const test = <A, E2>(
      title: string,
      options: Partial<UserHarborConfig.Options>,
      body: () => Effect.Effect<A, E2, UserHarborTest.StoreServices>
    ) => it.effect(title, () => Effect.provide(body(), UserHarborTest.layerWithStore(makeStore(), options)))

    test("a login beyond maxSessionsPerUser ends the oldest session by creation, even a recently used one", {
      maxSessionsPerUser: 3
    }, () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const first = yield* loggedIn(alice)
        yield* TestClock.adjust(1)
        const second = yield* loginAs(alice)
        yield* TestClock.adjust(1)
        const third = yield* loginAs(alice)
        const bobs = yield* loggedIn(bob)
        yield* TestClock.adjust(2 * hour)
        // Used last, created first: creation decides.
        yield* h.validateSession(first.token)
        const fourth = yield* loginAs(alice)
        expect(yield* h.verifySession(first.token)).toBe(false)
        expect((yield* h.listSessions(fourth.token)).map((s) => s.id)).toEqual([second.id, third.id, fourth.id])
        const fifth = yield* loginAs(alice)
        expect((yield* h.listSessions(fifth.token)).map((s) => s.id)).toEqual([third.id, fourth.id, fifth.id])
        expect(yield* h.verifySession(second.token)).toBe(false)
        expect((yield* h.listSessions(bobs.token)).map((s) => s.id)).toEqual([bobs.id])
      }))

    test("with maxSessionsPerUser 1 each login ends the previous one, and changePassword keeps one", {
      maxSessionsPerUser: 1
    }, () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const first = yield* loggedIn(alice)
        const second = yield* loginAs(alice)
        expect(yield* h.verifySession(first.token)).toBe(false)
        const changed = yield* h.changePassword({ sessionToken: second.token, oldPassword: password, newPassword })
        expect((yield* h.listSessions(changed.token)).map((s) => s.id)).toEqual([changed.id])
        const third = yield* h.login({ username: alice.username, password: newPassword })
        expect(yield* h.verifySession(changed.token)).toBe(false)
        expect((yield* h.listSessions(third.token)).map((s) => s.current)).toEqual([true])
      }))

    test("idle 1 hour and absolute 8 hours: a session used every 40 minutes lives exactly 8 hours", {
      sessionTtl: "1 hour",
      sessionAbsoluteTtl: "8 hours"
    }, () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const session = yield* loggedIn(alice)
        expect(session.expiresAt.getTime()).toBe(hour)
        let renewals = 0
        for (let at = 40 * minute; at < 8 * hour; at += 40 * minute) {
          yield* TestClock.setTime(at)
          const info = (yield* h.validateSession(session.token)).session
          if (info.renewed) renewals++
          expect(info.expiresAt.getTime()).toBe(Math.min(at + hour, 8 * hour))
        }
        expect(renewals).toBe(11)
        yield* TestClock.setTime(8 * hour - 1)
        expect(yield* h.verifySession(session.token)).toBe(true)
        yield* TestClock.setTime(8 * hour)
        expect(yield* Effect.flip(h.validateSession(session.token))).toStrictEqual(expired)
        expect(yield* storedSession(session.token)).toEqual(Option.none())
      }))

    test(
      "an unused session ends at the idle timeout",
      { sessionTtl: "1 hour", sessionAbsoluteTtl: "8 hours" },
      () =>
        Effect.gen(function*() {
          const h = yield* UserHarbor
          const session = yield* loggedIn(alice)
          yield* TestClock.setTime(hour)
          expect(yield* Effect.flip(h.getCurrentUser(session.token))).toStrictEqual(expired)
        })
    )

    test("an absolute timeout shorter than the idle one is the only limit", {
      sessionTtl: "30 days",
      sessionAbsoluteTtl: "1 hour"
    }, () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const session = yield* loggedIn(alice)
        expect(session.expiresAt.getTime()).toBe(hour)
        yield* TestClock.setTime(hour - 1)
        expect((yield* h.validateSession(session.token)).session).toMatchObject({
          renewed: false,
          expiresAt: new Date(hour)
        })
        yield* TestClock.setTime(hour)
        expect(yield* Effect.flip(h.logout(session.token))).toStrictEqual(expired)
      }))

    it.effect("a login whose session insert fails evicts nothing", () =>
      Effect.gen(function*() {
        const failing = yield* Ref.make(false)
        // The store, with session inserts that fail on demand (as a lost connection would); login uses the
        // conditional one.
        const failWhenAsked = <A>(insert: Effect.Effect<A, StoreError>) =>
          Effect.flatMap(Ref.get(failing), (fail) =>
            fail ? Effect.fail(new StoreError({ operation: "insertSession" })) : insert)
        const store = Layer.effect(
          UserStore,
          Effect.map(UserStore, (inner) =>
            UserStore.of({
              ...inner,
              insertSession: (session) =>
                failWhenAsked(inner.insertSession(session)),
              insertSessionIfPasswordVersion: (session, version) =>
                failWhenAsked(inner.insertSessionIfPasswordVersion(session, version))
            }))
        ).pipe(Layer.provideMerge(makeStore()))
        yield* Effect.gen(function*() {
          const h = yield* UserHarbor
          const first = yield* loggedIn(alice)
          yield* TestClock.adjust(1)
          const second = yield* loginAs(alice)
          yield* Ref.set(failing, true)
          expect(yield* Effect.flip(loginAs(alice))).toStrictEqual(new StoreError({ operation: "insertSession" }))
          yield* Ref.set(failing, false)
          expect((yield* h.listSessions(second.token)).map((s) => s.id)).toEqual([first.id, second.id])
        }).pipe(Effect.provide(UserHarborTest.layerWithStore(store, { maxSessionsPerUser: 2 })))
      }))

    it.effect("a shortened absolute timeout applies to sessions issued before the change", () =>
      Effect.scoped(Effect.gen(function*() {
        // One store, two harbors over it: the app before and after its configuration changed.
        const store = Layer.succeedContext(yield* Layer.build(makeStore()))
        const before = UserHarborTest.layerWithStore(store)
        const token = yield* Effect.provide(Effect.map(loggedIn(alice), (s) => s.token), before)
        yield* TestClock.setTime(10 * day)
        const validateWith = (absolute: Duration.DurationInput) =>
          Effect.flatMap(UserHarbor, (h) => h.validateSession(token)).pipe(
            Effect.provide(UserHarborTest.layerWithStore(store, { sessionAbsoluteTtl: absolute }))
          )
        expect((yield* validateWith("20 days")).session.expiresAt.getTime()).toBe(20 * day)
        expect(yield* Effect.flip(validateWith("7 days"))).toStrictEqual(expired)
        expect(yield* Effect.flip(validateWith("90 days"))).toStrictEqual(new InvalidSession({ reason: "unknown" }))
      })))
  })

sessionPolicySuite("memory", () => MemoryUserStore.layer)
sessionPolicySuite("sqlite :memory:", () => SqliteUserStore.layer({ filename: ":memory:" }))
describeOn("pg", "session policy", (url) => {
  sessionPolicySuite("postgres", () => pgStore(url))
})
describeOn("mysql", "session policy", (url) => {
  sessionPolicySuite("mysql", () => mysqlStore(url))
})

describe("session settings", () => {
  const secretKey = Redacted.make("k".repeat(32))
  const settings = (options: UserHarborConfig.Options) => UserHarborConfig.make(options)

  it.effect("default to an absolute timeout of 90 days and no cap", () =>
    Effect.gen(function*() {
      const config = yield* settings({ secretKey })
      expect(Duration.toMillis(config.sessionAbsoluteTtl)).toBe(90 * day)
      expect(config.maxSessionsPerUser).toBeUndefined()
    }))

  it.effect("refuse a cap that is not a whole number of at least 1, and a bad absolute timeout", () =>
    Effect.gen(function*() {
      const bad: ReadonlyArray<UserHarborConfig.Options> = [
        { secretKey, maxSessionsPerUser: 0 },
        { secretKey, maxSessionsPerUser: -2 },
        { secretKey, maxSessionsPerUser: 1.5 },
        { secretKey, maxSessionsPerUser: Number.NaN },
        { secretKey, maxSessionsPerUser: Number.POSITIVE_INFINITY },
        { secretKey, sessionAbsoluteTtl: 0 },
        { secretKey, sessionAbsoluteTtl: Duration.infinity }
      ]
      for (const options of bad) {
        const error = yield* Effect.flip(settings(options))
        expect(ConfigError.isInvalidData(error)).toBe(true)
      }
      const custom = yield* settings({ secretKey, maxSessionsPerUser: 5, sessionAbsoluteTtl: "12 hours" })
      expect(custom.maxSessionsPerUser).toBe(5)
      expect(Duration.toMillis(custom.sessionAbsoluteTtl)).toBe(12 * hour)
    }))

  it.effect("are read from USERHARBOR_SESSION_ABSOLUTE_TTL and USERHARBOR_MAX_SESSIONS_PER_USER", () =>
    Effect.gen(function*() {
      const read = (entries: ReadonlyArray<readonly [string, string]>) =>
        Effect.flatMap(UserHarborConfig.fromEnv, settings).pipe(Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["USERHARBOR_SECRET_KEY", "k".repeat(32)], ...entries]))
        ))
      const config = yield* read([
        ["USERHARBOR_SESSION_ABSOLUTE_TTL", "14 days"],
        ["USERHARBOR_MAX_SESSIONS_PER_USER", "4"]
      ])
      expect(Duration.toMillis(config.sessionAbsoluteTtl)).toBe(14 * day)
      expect(config.maxSessionsPerUser).toBe(4)
      const defaults = yield* read([])
      expect(Duration.toMillis(defaults.sessionAbsoluteTtl)).toBe(90 * day)
      expect(defaults.maxSessionsPerUser).toBeUndefined()
      const zero = yield* Effect.flip(read([["USERHARBOR_MAX_SESSIONS_PER_USER", "0"]]))
      expect(ConfigError.isInvalidData(zero)).toBe(true)
    }))
})

describe("renewal arithmetic", () => {
  const policies = fc.record({
    idle: fc.integer({ min: 1, max: 100 * day }),
    absolute: fc.integer({ min: 1, max: 400 * day }),
    maxPerUser: fc.constant(undefined)
  })
  const sessions = fc.record({
    createdAt: fc.integer({ min: 0, max: 1000 * day }),
    age: fc.integer({ min: 0, max: 500 * day }),
    lastUsed: fc.integer({ min: 0, max: 500 * day })
  })

  it.prop("a use never extends past the absolute timeout, renews only forwards, and writes when it renews", [
    policies,
    sessions,
    fc.integer({ min: 0, max: 200 * day })
  ], ([policy, { age, createdAt, lastUsed }, ahead]) => {
    const issued = SessionPolicy.expiryFrom(policy, createdAt, createdAt)
    const record = {
      id: SessionId.make("s"),
      tokenHash: TokenHash.make("h"),
      userId: UserId.make("u"),
      createdAt,
      // An expiry as some earlier renewal left it, possibly from a policy with a longer absolute timeout.
      expiresAt: Math.max(issued, createdAt + ahead),
      lastUsedAt: createdAt + Math.min(lastUsed, age)
    }
    const now = createdAt + age
    const deadline = SessionPolicy.deadline(policy, record)
    if (now >= deadline) return
    const use = SessionPolicy.use(policy, record, now)
    expect(use.expiresAt).toBeLessThanOrEqual(createdAt + policy.absolute)
    expect(use.expiresAt).toBeLessThanOrEqual(Math.max(deadline, now + policy.idle))
    expect(use.expiresAt).toBeGreaterThan(now)
    expect(use.renewed).toBe(use.expiresAt > deadline)
    if (!use.renewed) expect(use.expiresAt).toBe(deadline)
    if (use.renewed) expect(use.write).toBe(true)
    expect(use.write).toBe(use.renewed || now - record.lastUsedAt >= SessionPolicy.lastUsedGranularity)
  })
})
