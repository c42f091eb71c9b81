/**
 * The session fast paths, used for `findSession` outside transactions: on SQLite a read-only connection with one
 * prepared statement, on PostgreSQL the query straight on the client's pool. Same answers as the client path, the
 * transaction's own writes inside one, and (SQLite) no waiting for a transaction that holds the client's connection.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, type Layer, Option } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import type { StoreError } from "../../src/Errors.js"
import { decodeRow, sessionOnlyQuery, sessionQuery, sessionUserQuery } from "../../src/internal/sessionRow.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import { SessionId, UserId } from "../../src/User.js"
import { TokenHash, UserStore } from "../../src/UserStore.js"
import { describeOn, pgStore } from "../support/sqlDatabases.js"
import { session, sessionUser, userRecord } from "../support/storeRecords.js"

const t1 = TokenHash.make("t1")

const dir = mkdtempSync(join(tmpdir(), "userharbor-reader-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
const fileStore = () => SqliteUserStore.layer({ filename: join(dir, `store-${files++}.db`) })

const seeded = Effect.gen(function*() {
  const store = yield* UserStore
  const user = userRecord()
  const live = session(user.id)
  yield* store.insertUser(user)
  yield* store.insertSession(live)
  return { store, user, live }
})

const sameAnswers = (name: string, layer: () => Layer.Layer<UserStore, StoreError>) =>
  describe(`${name} session fast path`, () => {
    it.effect("answers exactly as the client path: a live session with its user, a missing one, a changed user", () =>
      Effect.gen(function*() {
        const { live, store, user } = yield* seeded
        const viaClient = (tokenHash: TokenHash) => store.withTransaction(store.findSession(tokenHash))

        const fast = yield* store.findSession(live.tokenHash)
        assert.deepStrictEqual(fast, Option.some({ session: live, user: sessionUser(user) }))
        assert.deepStrictEqual(fast, yield* viaClient(live.tokenHash))

        assert.isTrue(Option.isNone(yield* store.findSession(TokenHash.make("no-such-hash"))))
        assert.isTrue(Option.isNone(yield* viaClient(TokenHash.make("no-such-hash"))))

        // Committed writes through the client are visible to the reader at once.
        yield* store.markVerified(user.id)
        yield* store.updatePassword({ userId: user.id, passwordHash: "$argon2id$v=19$m=8,t=1,p=1$bmV3$bmV3" })
        const changed = yield* store.findSession(live.tokenHash)
        assert.deepStrictEqual(changed, yield* viaClient(live.tokenHash))
        assert.isTrue(Option.isSome(changed) && changed.value.user.verified)
        // The session check never reads the password hash (nor carries it into a cache).
        assert.isTrue(Option.isSome(changed) && !("passwordHash" in changed.value.user))

        yield* store.deleteSession(live.tokenHash)
        assert.isTrue(Option.isNone(yield* store.findSession(live.tokenHash)))
      }).pipe(Effect.provide(layer())))

    it.effect("inside a transaction sees its own uncommitted session, and nothing of it after a rollback", () =>
      Effect.gen(function*() {
        const { store, user } = yield* seeded
        const fresh = session(user.id)
        const inside = yield* store.withTransaction(Effect.gen(function*() {
          yield* store.insertSession(fresh)
          const found = yield* store.findSession(fresh.tokenHash)
          return yield* Effect.fail({ found })
        })).pipe(Effect.flip)
        assert.deepStrictEqual(inside, { found: Option.some({ session: fresh, user: sessionUser(user) }) })
        assert.isTrue(Option.isNone(yield* store.findSession(fresh.tokenHash)))
      }).pipe(Effect.provide(layer())))
  })

sameAnswers("SQLite", fileStore)
describeOn("pg", "fast path", (url) => {
  sameAnswers("PostgreSQL", () => pgStore(url))
})

describe("SQLite session fast path", () => {
  it.live("outside a transaction, does not wait for one that holds the connection, and sees only committed rows", () =>
    Effect.gen(function*() {
      const { live, store, user } = yield* seeded
      const pendingSession = session(user.id)
      const inserted = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const writer = yield* Effect.fork(store.withTransaction(Effect.gen(function*() {
        yield* store.insertSession(pendingSession)
        yield* Deferred.succeed(inserted, undefined)
        yield* Deferred.await(release)
      })))
      yield* Deferred.await(inserted)
      // Through the client these would queue behind the transaction (one connection) until the timeout.
      const committed = yield* store.findSession(live.tokenHash).pipe(Effect.timeout("2 seconds"))
      const uncommitted = yield* store.findSession(pendingSession.tokenHash).pipe(Effect.timeout("2 seconds"))
      assert.deepStrictEqual(committed, Option.some({ session: live, user: sessionUser(user) }))
      assert.isTrue(Option.isNone(uncommitted))
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(writer)
      assert.isTrue(Option.isSome(yield* store.findSession(pendingSession.tokenHash)))
    }).pipe(Effect.provide(fileStore())))

  it("reads both drivers' row shapes and refuses any other", () => {
    const row = {
      id: "s1",
      user_id: "u1",
      created_at: 11,
      expires_at: 12,
      last_used_at: 13,
      username: "Ann",
      email: "ann@example.com",
      verified: 1,
      user_created_at: 10
    }
    assert.deepStrictEqual(decodeRow(row, t1), {
      user: { id: UserId.make("u1"), username: "Ann", email: "ann@example.com", verified: true, createdAt: 10 },
      session: {
        id: SessionId.make("s1"),
        tokenHash: "t1",
        userId: UserId.make("u1"),
        createdAt: 11,
        expiresAt: 12,
        lastUsedAt: 13
      }
    })
    assert.isUndefined(decodeRow(undefined, t1))
    assert.isUndefined(decodeRow({ ...row, verified: 2 }, t1))
    // PostgreSQL's shapes: BIGINT as a decimal string, a real boolean.
    assert.deepStrictEqual(
      decodeRow({ ...row, expires_at: "12", user_created_at: "10", verified: true }, t1),
      decodeRow(row, t1)
    )
    assert.isUndefined(decodeRow({ ...row, expires_at: "12.5" }, t1))
    assert.isUndefined(decodeRow({ ...row, expires_at: "1e3" }, t1))
    assert.isUndefined(decodeRow({ ...row, expires_at: "" }, t1))
    assert.isUndefined(decodeRow({ ...row, created_at: 1.5 }, t1))
    const { id: _, ...withoutSessionId } = row
    assert.isUndefined(decodeRow(withoutSessionId, t1))
  })

  it("reads neither the password hash nor the token hash it was given, on any path", () => {
    for (const query of [sessionQuery("?"), sessionOnlyQuery, sessionUserQuery]) {
      assert.notInclude(query, "password")
      assert.notInclude(query.slice(0, query.indexOf("FROM")), "token_hash")
    }
  })
})
