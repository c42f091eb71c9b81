/**
 * The session cache: it serves cached sessions, every revoking store method takes effect at once in the process,
 * a second store instance's revocation is seen after the TTL (at once on a SQLite file, by its change counter), transactions bypass it, and a read that raced a
 * revocation cannot put the old row back.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Context, Deferred, Effect, Fiber, Layer, Option, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import * as SyncLookup from "../../src/internal/syncLookup.js"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import * as SessionCache from "../../src/SessionCache.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import { EmailKey, TokenHash, UserStore } from "../../src/UserStore.js"
import { session, sessionUser, userRecord } from "../support/storeRecords.js"

const dir = mkdtempSync(join(tmpdir(), "userharbor-cache-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The cached store and, beside it, the store it wraps (standing in for another process on the same data). */
const cachedOver = <E>(inner: Layer.Layer<UserStore, E>, options: SessionCache.Options = { ttl: "5 seconds" }) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(inner)
    const direct = Context.get(context, UserStore)
    const cached = yield* SessionCache.make(options).pipe(Effect.provide(context))
    return { cached, direct }
  })

const memory = cachedOver(MemoryUserStore.layer)

const seed = (store: UserStore["Type"]) =>
  Effect.gen(function*() {
    const user = userRecord()
    const live = session(user.id)
    yield* store.insertUser(user)
    yield* store.insertSession(live)
    return { user, live }
  })

describe("SessionCache", () => {
  it.scoped("serves a cached session for up to the TTL, then reads the store again", () =>
    Effect.gen(function*() {
      const { cached, direct } = yield* memory
      const { live, user } = yield* seed(direct)
      assert.deepStrictEqual(
        yield* cached.findSession(live.tokenHash),
        Option.some({ session: live, user: sessionUser(user) })
      )
      // Removed behind the cache's back (as another process would): still served from the cache...
      yield* direct.deleteSession(live.tokenHash)
      yield* TestClock.adjust("4999 millis")
      assert.isTrue(Option.isSome(yield* cached.findSession(live.tokenHash)))
      // ...but never longer than the TTL.
      yield* TestClock.adjust("1 millis")
      assert.isTrue(Option.isNone(yield* cached.findSession(live.tokenHash)))
    }))

  it.scoped("does not cache misses: a session created elsewhere is usable at once", () =>
    Effect.gen(function*() {
      const { cached, direct } = yield* memory
      const user = userRecord()
      const later = session(user.id)
      yield* direct.insertUser(user)
      assert.isTrue(Option.isNone(yield* cached.findSession(later.tokenHash)))
      yield* direct.insertSession(later)
      assert.isTrue(Option.isSome(yield* cached.findSession(later.tokenHash)))
    }))

  const revocations: ReadonlyArray<{
    readonly name: string
    readonly run: (store: UserStore["Type"], seeded: Effect.Effect.Success<ReturnType<typeof seed>>) => Effect.Effect<
      unknown,
      unknown
    >
    /**
     * What a fresh look-up must show afterwards: the session gone, the changed user, or (for a change a session
     * check does not read) a user changed behind the cache's back before the call: the entry was dropped.
     */
    readonly expect: "gone" | "verified" | "re-read" | "renewed"
  }> = [
    { name: "deleteSession", run: (s, { live }) => s.deleteSession(live.tokenHash), expect: "gone" },
    { name: "deleteUserSessions", run: (s, { user }) => s.deleteUserSessions(user.id), expect: "gone" },
    { name: "deleteUser", run: (s, { user }) => s.deleteUser(user.id), expect: "gone" },
    {
      name: "purgeUnverifiedUsers",
      run: (s) => s.purgeUnverifiedUsers({ createdBefore: Number.MAX_SAFE_INTEGER, limit: 10 }),
      expect: "gone"
    },
    {
      name: "deleteUnverifiedUsers",
      run: (s, { user }) =>
        s.deleteUnverifiedUsers({
          usernameKey: user.usernameKey,
          emailKey: EmailKey.make("x"),
          createdBefore: Number.MAX_SAFE_INTEGER
        }),
      expect: "gone"
    },
    { name: "deleteUserSession", run: (s, { live, user }) => s.deleteUserSession(user.id, live.id), expect: "gone" },
    {
      name: "deleteOtherUserSessions",
      run: (s, { user }) => s.deleteOtherUserSessions(user.id, TokenHash.make("some-other-session")),
      expect: "gone"
    },
    { name: "trimUserSessions", run: (s, { user }) => s.trimUserSessions(user.id, 0), expect: "gone" },
    { name: "markVerified", run: (s, { user }) => s.markVerified(user.id), expect: "verified" },
    {
      name: "updatePassword",
      run: (s, { user }) => s.updatePassword({ userId: user.id, passwordHash: "new-hash" }),
      expect: "re-read"
    },
    {
      name: "renewSession",
      run: (s, { live }) =>
        s.renewSession({
          tokenHash: live.tokenHash,
          expiresAt: live.expiresAt + 1000,
          lastUsedAt: live.lastUsedAt + 1
        }),
      expect: "renewed"
    }
  ]

  for (const revocation of revocations) {
    it.scoped(`${revocation.name} takes effect at once in the process`, () =>
      Effect.gen(function*() {
        const { cached, direct } = yield* memory
        const seeded = yield* seed(direct)
        assert.isTrue(Option.isSome(yield* cached.findSession(seeded.live.tokenHash)))
        if (revocation.expect === "re-read") yield* direct.markVerified(seeded.user.id)
        yield* revocation.run(cached, seeded)
        const found = yield* cached.findSession(seeded.live.tokenHash)
        if (revocation.expect === "gone") return assert.isTrue(Option.isNone(found))
        assert.isTrue(Option.isSome(found))
        const { session: after, user } = Option.getOrThrow(found)
        if (revocation.expect === "verified" || revocation.expect === "re-read") assert.isTrue(user.verified)
        if (revocation.expect === "renewed") assert.strictEqual(after.expiresAt, seeded.live.expiresAt + 1000)
      }))
  }

  it.scoped("every store method that is passed through unchanged is one that cannot end or change a session", () =>
    Effect.gen(function*() {
      const { cached, direct } = yield* memory
      // A new port method that deletes sessions or changes users must be decorated (and listed in the module
      // comment); one that cannot is added here.
      const cannotRevoke = new Set([
        "insertUser",
        "findUserById",
        "findUserByUsername",
        "findUserByEmail",
        "issueToken",
        "findToken",
        "consumeToken",
        "deleteUserTokens",
        "insertSession",
        "purgeExpired",
        "listUserSessions",
        "incrementCounter",
        "getCounter",
        "deleteCounter",
        "releaseCounter",
        "purgeCounters",
        "insertSessionIfPasswordVersion",
        "enqueueEmail",
        "claimEmails",
        "completeEmail",
        "retryEmail",
        "dropEmail"
      ])
      const passedThrough = Object.keys(direct).filter((key) => Reflect.get(cached, key) === Reflect.get(direct, key))
      assert.deepStrictEqual(passedThrough.filter((key) => !cannotRevoke.has(key)), [])
    }))

  it.scoped("bypasses the cache inside a transaction, and a rolled-back revocation leaves the session usable", () =>
    Effect.gen(function*() {
      const { cached, direct } = yield* memory
      const { live, user } = yield* seed(direct)
      const phantom = session(user.id)
      // Read inside a transaction that then rolls back: not cached.
      yield* cached.withTransaction(Effect.gen(function*() {
        yield* cached.insertSession(phantom)
        assert.isTrue(Option.isSome(yield* cached.findSession(phantom.tokenHash)))
        return yield* Effect.fail("rollback")
      })).pipe(Effect.flip)
      assert.isTrue(Option.isNone(yield* cached.findSession(phantom.tokenHash)))
      // A logout that rolls back: the session is still there, read afresh.
      assert.isTrue(Option.isSome(yield* cached.findSession(live.tokenHash)))
      yield* cached.withTransaction(Effect.zipRight(cached.deleteSession(live.tokenHash), Effect.fail("rollback")))
        .pipe(Effect.flip)
      assert.isTrue(Option.isSome(yield* cached.findSession(live.tokenHash)))
    }))

  it.scoped("a look-up that raced a revocation does not put the revoked session back", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(MemoryUserStore.layer)
      const direct = Context.get(context, UserStore)
      const gate = yield* Deferred.make<void>()
      const read = yield* Deferred.make<void>()
      // The store reads the row, then stalls before answering (a slow network round trip).
      const slow = UserStore.of({
        ...direct,
        findSession: (tokenHash) =>
          Effect.tap(
            direct.findSession(tokenHash),
            () => Effect.zipRight(Deferred.succeed(read, undefined), Deferred.await(gate))
          )
      })
      const cached = yield* SessionCache.make({ ttl: "5 seconds" }).pipe(Effect.provideService(UserStore, slow))
      const { live } = yield* seed(direct)
      const racing = yield* Effect.fork(cached.findSession(live.tokenHash))
      yield* Deferred.await(read)
      yield* cached.deleteSession(live.tokenHash)
      yield* Deferred.succeed(gate, undefined)
      // The racing caller saw the session (it was concurrent with the logout), but nothing cached it.
      assert.isTrue(Option.isSome(yield* Fiber.join(racing)))
      assert.isTrue(Option.isNone(yield* cached.findSession(live.tokenHash)))
    }))

  it.scoped("keeps at most `capacity` sessions, dropping the least recently used", () =>
    Effect.gen(function*() {
      const { cached, direct } = yield* cachedOver(MemoryUserStore.layer, { ttl: "1 minute", capacity: 2 })
      const { user } = yield* seed(direct)
      const [a, b, c] = [session(user.id), session(user.id), session(user.id)]
      for (const s of [a, b, c]) yield* direct.insertSession(s)
      yield* cached.findSession(a.tokenHash)
      yield* cached.findSession(b.tokenHash)
      yield* cached.findSession(a.tokenHash) // a is now the most recently used
      yield* cached.findSession(c.tokenHash) // evicts b
      for (const s of [a, b, c]) yield* direct.deleteSession(s.tokenHash)
      assert.isTrue(Option.isSome(yield* cached.findSession(a.tokenHash)))
      assert.isTrue(Option.isNone(yield* cached.findSession(b.tokenHash)))
      assert.isTrue(Option.isSome(yield* cached.findSession(c.tokenHash)))
    }))

  it.scoped("two store instances on one SQLite file: a logout in one is seen by the other at its next look-up", () =>
    Effect.gen(function*() {
      const filename = join(dir, "shared.db")
      const one = yield* cachedOver(SqliteUserStore.layer({ filename }), { ttl: "1 hour" })
      const two = yield* cachedOver(SqliteUserStore.layer({ filename }), { ttl: "1 hour" })
      const { live, user } = yield* seed(one.cached)
      assert.deepStrictEqual(
        yield* two.cached.findSession(live.tokenHash),
        Option.some({ session: live, user: sessionUser(user) })
      )
      // Served from memory while nothing is written: the same answer after the row is gone, read the other way.
      const lookup = SyncLookup.of(two.cached.findSession)
      assert.deepStrictEqual(lookup?.lookup(live.tokenHash, 0), { session: live, user: sessionUser(user) })
      yield* one.cached.deleteSession(live.tokenHash)
      // SQLite's change counter moved: the other instance drops what it held, well within its hour-long TTL, on
      // both of its paths (the synchronous one asks the store, which no longer has the row).
      assert.strictEqual(lookup?.lookup(live.tokenHash, 0), SyncLookup.unanswered)
      assert.isTrue(Option.isNone(yield* two.cached.findSession(live.tokenHash)))
    }))

  it.scoped("over a SQLite file, a change written by another connection (a CLI, a script) is seen at once", () =>
    Effect.gen(function*() {
      const filename = join(dir, "outside.db")
      const { cached } = yield* cachedOver(SqliteUserStore.layer({ filename }), { ttl: "1 hour" })
      const { live } = yield* seed(cached)
      const other = new Database(filename)
      yield* Effect.addFinalizer(() => Effect.sync(() => other.close()))
      assert.isTrue(Option.isSome(yield* cached.findSession(live.tokenHash)))
      // A read-only statement elsewhere changes nothing, and the entry is still served.
      other.prepare("SELECT count(*) FROM userharbor_sessions").get()
      assert.isTrue(Option.isSome(yield* cached.findSession(live.tokenHash)))
      other.prepare("UPDATE userharbor_users SET verified = 0").run()
      const found = yield* cached.findSession(live.tokenHash)
      assert.isTrue(Option.isSome(found) && !found.value.user.verified)
      other.prepare("DELETE FROM userharbor_sessions").run()
      assert.isTrue(Option.isNone(yield* cached.findSession(live.tokenHash)))
    }))

  it.scoped("two caches over one SQLite store: each sees the change (neither takes it from the other)", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(SqliteUserStore.layer({ filename: join(dir, "two-caches.db") }))
      const [first, second] = yield* Effect.all([
        SessionCache.make({ ttl: "1 hour" }),
        SessionCache.make({ ttl: "1 hour" })
      ]).pipe(Effect.provide(context))
      const { live } = yield* seed(Context.get(context, UserStore))
      for (const cache of [first, second]) assert.isTrue(Option.isSome(yield* cache.findSession(live.tokenHash)))
      yield* Effect.orDie(Context.get(context, SqlClient.SqlClient)`DELETE FROM userharbor_sessions`)
      for (const cache of [first, second]) assert.isTrue(Option.isNone(yield* cache.findSession(live.tokenHash)))
    }))

  it.scoped("as a layer over SqliteUserStore.layer, it is the UserStore the app gets", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(
        SessionCache.layer({ ttl: "5 seconds" }).pipe(
          Layer.provideMerge(SqliteUserStore.layer({ filename: join(dir, "layered.db") }))
        )
      )
      const store = Context.get(context, UserStore)
      const sql = Context.get(context, SqlClient.SqlClient)
      const { live } = yield* seed(store)
      assert.isTrue(Option.isSome(yield* store.findSession(live.tokenHash)))
      // Deleted in the database directly, through the client: the cache sees the file change at its next look-up.
      yield* Effect.orDie(sql`DELETE FROM userharbor_sessions`)
      assert.isTrue(Option.isNone(yield* store.findSession(live.tokenHash)))
    }))
})
