/**
 * `UserHarbor.sessionChecker`: `validateSession` as a plain function. The same answers, writes and spans as
 * `validateSession`, synchronously when the store answers at once, and as a promise when the check has to wait
 * (a renewal write queued behind a transaction on SQLite's single writer connection).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Duration, Effect, Either, Fiber, Layer, Option, Redacted, TestClock, Tracer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { InvalidSession } from "../../src/Errors.js"
import * as Ports from "../../src/internal/ports.js"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import * as SessionCache from "../../src/SessionCache.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import * as UserHarbor from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { UserStore } from "../../src/UserStore.js"
import { alice, loggedIn, storedSession, tokenHash } from "../support/fixtures.js"
import { describeOn, pgStore } from "../support/sqlDatabases.js"

const dir = mkdtempSync(join(tmpdir(), "userharbor-checker-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const sqlite = () => SqliteUserStore.layer({ filename: join(dir, `checker-${files++}.db`) })

const hour = Duration.toMillis("1 hour")
const unknown = new InvalidSession({ reason: "unknown" })

/** The answer when it came synchronously; fails the test when it came as a promise. */
const now = <A>(answer: A | Promise<A>): A => {
  if (answer instanceof Promise) throw new Error("expected a synchronous answer")
  return answer
}

// The memory store's ports with `SessionCache` over its `UserStore`, and the ports themselves (`Inner`) for writes
// the cache does not see.
class Inner extends Context.Tag("test/SessionChecker/Inner")<Inner, Ports.Ports>() {}
const cachedMemory = Layer.effectContext(Effect.gen(function*() {
  const ports = yield* MemoryUserStore.make
  const cached = yield* SessionCache.make().pipe(Effect.provideService(UserStore, ports.store))
  return Context.add(Ports.context({ ...ports, store: cached }), Inner, ports)
}))

describe("UserHarbor.sessionChecker", () => {
  it.effect("answers as validateSession does, synchronously on SQLite: live, unknown, malformed, renewed, expired", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarbor.UserHarbor
      const check = yield* UserHarbor.sessionChecker
      const session = yield* loggedIn(alice)
      const token = Redacted.value(session.token)

      const live = now(check(token))
      assert.deepStrictEqual(live, { ok: true, value: yield* harbor.validateSession(token) })
      assert.deepStrictEqual(now(check(session.token)), live)
      assert.deepStrictEqual(now(check("not a token")), { ok: false, error: unknown })
      assert.deepStrictEqual(now(check("A".repeat(43))), { ok: false, error: unknown })

      // Past the last-use granularity the check writes, as validateSession does.
      yield* TestClock.adjust(2 * hour)
      const used = now(check(token))
      assert.isTrue(used.ok)
      const stored = yield* Effect.flatten(storedSession(token))
      assert.strictEqual(stored.session.lastUsedAt, 2 * hour)

      // Past the idle timeout: expired, and the session is deleted.
      yield* TestClock.adjust(Duration.toMillis("31 days"))
      assert.deepStrictEqual(now(check(token)), { ok: false, error: new InvalidSession({ reason: "expired" }) })
      assert.isTrue(Option.isNone(yield* storedSession(token)))
    }).pipe(Effect.provide(UserHarborTest.layerWithStore(sqlite()))))

  it.effect("a renewal queued behind a transaction comes as a promise, and is written", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const check = yield* UserHarbor.sessionChecker
      const session = yield* loggedIn(alice)
      yield* TestClock.adjust(2 * hour)
      const began = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(sql.withTransaction(
        Effect.zipRight(Deferred.succeed(began, undefined), Deferred.await(release))
      ))
      yield* Deferred.await(began)
      const answer = check(session.token)
      assert.isTrue(answer instanceof Promise)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      const settled = yield* Effect.promise(() => Promise.resolve(answer))
      assert.isTrue(settled.ok)
      const stored = yield* Effect.flatten(storedSession(session.token))
      assert.strictEqual(stored.session.lastUsedAt, 2 * hour)
    }).pipe(Effect.provide(UserHarborTest.layerWithStore(sqlite()))))

  it.effect("under an installed tracer, records validateSession's span for every call", () =>
    Effect.gen(function*() {
      const session = yield* loggedIn(alice)
      const native = yield* Effect.tracer
      const spans: Array<string> = []
      const tracer = Tracer.make({
        span: (...args) => {
          spans.push(args[0])
          return native.span(...args)
        },
        context: native.context
      })
      const check = yield* Effect.withTracer(UserHarbor.sessionChecker, tracer)
      assert.isTrue(now(check(session.token)).ok)
      // Errors raised in a span carry it, so compare the fields.
      const refused = now(check("not a token"))
      assert.isTrue(!refused.ok && refused.error._tag === "InvalidSession" && refused.error.reason === "unknown")
      assert.deepStrictEqual(spans.filter((name) => name === "UserHarbor.validateSession").length, 2)
    }).pipe(Effect.provide(UserHarborTest.layerWithStore(sqlite()))))

  it.effect("over a decorated store (the session cache) goes through it", () =>
    Effect.gen(function*() {
      const check = yield* UserHarbor.sessionChecker
      const session = yield* loggedIn(alice)
      // Verifying the address revoked the user's entries for one TTL: past it, sessions are cached again.
      yield* TestClock.adjust("6 seconds")
      assert.isTrue(now(check(session.token)).ok)
      // Deleted behind the cache's back (as another process would, in a store that cannot tell the cache): the
      // cached entry still answers.
      const { store } = yield* Inner
      yield* store.deleteSession(tokenHash(session.token))
      assert.isTrue(now(check(session.token)).ok)
    }).pipe(Effect.provide(UserHarborTest.layerWithStore(cachedMemory))))

  it.effect("answers synchronously on the memory store", () =>
    Effect.gen(function*() {
      const check = yield* UserHarbor.sessionChecker
      const session = yield* loggedIn(alice)
      assert.isTrue(now(check(session.token)).ok)
    }).pipe(Effect.provide(UserHarborTest.layerWithStore(MemoryUserStore.layer))))
})

describeOn("pg", "sessionChecker", (url) => {
  it.effect("answers with a promise, as validateSession does, renewal writes included", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarbor.UserHarbor
      const check = yield* UserHarbor.sessionChecker
      const session = yield* loggedIn(alice)
      const answer = check(session.token)
      assert.isTrue(answer instanceof Promise)
      const live = yield* Effect.promise(() => Promise.resolve(answer))
      assert.deepStrictEqual(live, { ok: true, value: yield* harbor.validateSession(session.token) })
      const refused = yield* Effect.promise(() => Promise.resolve(check("A".repeat(43))))
      assert.deepStrictEqual(refused, { ok: false, error: unknown })
      yield* TestClock.adjust(2 * hour)
      assert.isTrue((yield* Effect.promise(() => Promise.resolve(check(session.token)))).ok)
      const stored = yield* Effect.flatten(storedSession(session.token))
      assert.strictEqual(stored.session.lastUsedAt, 2 * hour)
    }).pipe(Effect.provide(UserHarborTest.layerWithStore(pgStore(url)))), 30_000)

  it.effect(
    "over the session cache, answers a hit synchronously and still sees revocations at once",
    () =>
      Effect.gen(function*() {
        const harbor = yield* UserHarbor.UserHarbor
        const check = yield* UserHarbor.sessionChecker
        const session = yield* loggedIn(alice)
        yield* TestClock.adjust("6 seconds")
        // The first look-up reads PostgreSQL (a promise); the next ones are hits, answered at once.
        const first = yield* Effect.promise(() => Promise.resolve(check(session.token)))
        assert.isTrue(first.ok)
        assert.deepStrictEqual(now(check(session.token)), first)
        assert.deepStrictEqual(yield* harbor.validateSession(session.token), first.ok ? first.value : undefined)
        // Inside the store's transaction the cache is bypassed: a session deleted in it is gone for the check there.
        const store = yield* UserStore
        const inside = yield* Effect.either(store.withTransaction(Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* sql`DELETE FROM userharbor_sessions`
          return yield* Effect.fail(yield* Effect.orDie(Effect.flip(harbor.validateSession(session.token))))
        })))
        assert.isTrue(
          Either.isLeft(inside) && inside.left._tag === "InvalidSession" && inside.left.reason === "unknown"
        )
        // Rolled back, and answered from the cache again.
        assert.isTrue(now(check(session.token)).ok)
        // A logout revokes the cached entry before it returns.
        yield* harbor.logout(session.token)
        const after = yield* Effect.promise(() => Promise.resolve(check(session.token)))
        assert.deepStrictEqual(after, { ok: false, error: unknown })
        assert.deepStrictEqual(yield* Effect.flip(harbor.validateSession(session.token)), unknown)
      }).pipe(
        Effect.provide(UserHarborTest.layerWithStore(SessionCache.layer().pipe(Layer.provideMerge(pgStore(url)))))
      ),
    30_000
  )
})
