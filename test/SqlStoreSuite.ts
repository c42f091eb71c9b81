/**
 * SQL-specific checks of `SqlUserStore`, run against every backend (the store contract itself is the
 * conformance suite's job). Rows persist across the tests of one block, so every test uses its own ids.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { assert, describe, layer } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, type Layer, Option, Schema } from "effect"
import { StoreError } from "../src/Errors.js"
import * as SqlMigrations from "../src/SqlMigrations.js"
import { SessionId, UserId } from "../src/User.js"
import { type SessionUser, type UserRecord, UserStore } from "../src/UserStore.js"

let counter = 0
const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`

export const userRecord = (overrides: Partial<UserRecord> = {}): UserRecord => {
  const name = unique("user")
  return {
    id: UserId.make(unique("id")),
    username: name,
    usernameKey: name.toLowerCase(),
    email: `${name}@example.com`,
    emailKey: `${name}@example.com`.toLowerCase(),
    passwordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
    passwordVersion: 1,
    verified: false,
    createdAt: 1_700_000_000_123,
    ...overrides
  }
}

/** What `findSession` returns of a user: the session check's fields, never the password hash. */
export const sessionUser = ({ createdAt, email, id, username, verified }: UserRecord): SessionUser => ({
  id,
  username,
  email,
  verified,
  createdAt
})

export const session = (userId: UserId, overrides: { expiresAt?: number; createdAt?: number } = {}) => ({
  id: SessionId.make(unique("sid")),
  tokenHash: unique("sh"),
  userId,
  createdAt: overrides.createdAt ?? 1_700_000_000_001,
  expiresAt: overrides.expiresAt ?? 1_800_000_000_999,
  lastUsedAt: overrides.createdAt ?? 1_700_000_000_001
})

const Count = Schema.Struct({ n: Schema.Union(Schema.Number, Schema.NumberFromString) })
const count = (query: Effect.Effect<ReadonlyArray<unknown>, unknown>) =>
  Effect.map(Effect.flatMap(Effect.orDie(query), Schema.decodeUnknown(Schema.Array(Count))), (rows) => rows[0]?.n ?? -1)

class Boom extends Schema.TaggedError<Boom>()("Boom", {}) {}

export const sqlSuite = (name: string, store: Layer.Layer<UserStore | SqlClient.SqlClient, StoreError>) =>
  layer(store, { timeout: "60 seconds" })(`SqlUserStore (${name})`, (it) => {
    const rows = (table: string, column: string, value: string) =>
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => count(sql`SELECT COUNT(*) AS n FROM ${sql(table)} WHERE ${sql(column)} = ${value}`)
      )

    describe("migrations", () => {
      it.effect("are recorded once in userharbor_migrations and running them again is a no-op", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          assert.deepStrictEqual(yield* SqlMigrations.run, [])
          assert.deepStrictEqual(yield* SqlMigrations.run, [])
          const migrations = yield* Effect.orDie(SqlMigrations.loader)
          assert.isAtLeast(migrations.length, 2)
          assert.strictEqual(yield* count(sql`SELECT COUNT(*) AS n FROM userharbor_migrations`), migrations.length)
        }))
    })

    describe("timestamps", () => {
      it.effect("round-trip exactly as epoch milliseconds, through every read path", () =>
        Effect.gen(function*() {
          const store = yield* UserStore
          // Odd milliseconds, the far future and the epoch itself: no driver may shift, round or localise them.
          const instants = [0, 1_700_000_000_123, 253_402_300_799_999, 8_640_000_000_000_000]
          for (const instant of instants) {
            const user = userRecord({ createdAt: instant })
            yield* store.insertUser(user)
            const found = yield* store.findUserById(user.id)
            assert.deepStrictEqual(found, Option.some(user))
            const s = session(user.id, { createdAt: instant + 1, expiresAt: instant + 2 })
            yield* store.insertSession(s)
            const withUser = yield* store.findSession(s.tokenHash)
            assert.deepStrictEqual(withUser, Option.some({ session: s, user: sessionUser(user) }))
            const token = {
              tokenHash: unique("th"),
              purpose: "verify-email" as const,
              userId: user.id,
              createdAt: instant + 3,
              expiresAt: instant + 4
            }
            yield* store.issueToken(token)
            assert.deepStrictEqual(yield* store.findToken("verify-email", token.tokenHash), Option.some(token))
            yield* store.renewSession(s.tokenHash, instant + 5, instant + 6)
            const renewed = yield* store.findSession(s.tokenHash)
            assert.deepStrictEqual(
              Option.map(renewed, (x) => [x.session.expiresAt, x.session.lastUsedAt]),
              Option.some([instant + 5, instant + 6])
            )
          }
        }))
    })

    describe("unique keys", () => {
      it.effect("the database itself refuses a second row with the same case-folded username or email", () =>
        Effect.gen(function*() {
          const store = yield* UserStore
          const sql = yield* SqlClient.SqlClient
          const user = userRecord()
          yield* store.insertUser(user)
          // Straight to the table, past the store: the constraint is in the schema, not a read-then-write.
          const insert = (username_key: string, email_key: string) =>
            sql`INSERT INTO userharbor_users ${
              sql.insert({
                id: unique("raw"),
                username: "x",
                username_key,
                email: "x",
                email_key,
                password_hash: "x",
                password_version: 1,
                verified: 0,
                created_at: 0
              })
            }`
          const byUsername = yield* Effect.flip(insert(user.usernameKey, unique("other")))
          const byEmail = yield* Effect.flip(insert(unique("other"), user.emailKey))
          for (const error of [byUsername, byEmail]) assert.strictEqual(error._tag, "SqlError")
          assert.strictEqual(yield* rows("userharbor_users", "username_key", user.usernameKey), 1)
        }))

      it.effect("insertUser reports UsernameTaken before EmailTaken; keys differing only in case are distinct", () =>
        Effect.gen(function*() {
          const store = yield* UserStore
          const user = userRecord({ username: "MixedCase" + unique("") })
          yield* store.insertUser(user)
          const sameName = userRecord({ usernameKey: user.usernameKey, username: user.username.toUpperCase() })
          const sameEmail = userRecord({ emailKey: user.emailKey })
          const both = userRecord({ usernameKey: user.usernameKey, emailKey: user.emailKey })
          assert.strictEqual((yield* Effect.flip(store.insertUser(sameName)))._tag, "UsernameTaken")
          assert.strictEqual((yield* Effect.flip(store.insertUser(sameEmail)))._tag, "EmailTaken")
          assert.strictEqual((yield* Effect.flip(store.insertUser(both)))._tag, "UsernameTaken")
          // The key columns compare exactly (MySQL's default collations would not): another case is another key.
          yield* store.insertUser(userRecord({ usernameKey: user.usernameKey.toUpperCase() }))
          yield* store.insertUser(userRecord({ usernameKey: user.usernameKey + "\u00e9" }))
        }))

      it.effect("a violation inside a transaction leaves the transaction usable and committable", () =>
        Effect.gen(function*() {
          const store = yield* UserStore
          const first = userRecord()
          const second = userRecord()
          yield* store.insertUser(first)
          const taken = yield* store.withTransaction(Effect.gen(function*() {
            const error = yield* Effect.flip(store.insertUser(userRecord({ usernameKey: first.usernameKey })))
            yield* store.insertUser(second)
            return error._tag
          }))
          assert.strictEqual(taken, "UsernameTaken")
          assert.isTrue(Option.isSome(yield* store.findUserById(second.id)))
        }))
    })

    describe("tokens and cascades", () => {
      it.effect("consumeToken hands the token to exactly one of many concurrent consumers", () =>
        Effect.gen(function*() {
          const store = yield* UserStore
          const user = userRecord()
          yield* store.insertUser(user)
          const tokenHash = unique("th")
          yield* store.issueToken({ tokenHash, purpose: "reset-password", userId: user.id, createdAt: 1, expiresAt: 2 })
          const results = yield* Effect.all(
            Array.from({ length: 10 }, () => store.consumeToken("reset-password", tokenHash)),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(results.filter(Option.isSome).length, 1)
          assert.strictEqual(yield* rows("userharbor_tokens", "token_hash", tokenHash), 0)
        }))

      it.effect("issueToken keeps one row per user and purpose, and concurrent issues do not collide", () =>
        Effect.gen(function*() {
          const store = yield* UserStore
          const user = userRecord()
          yield* store.insertUser(user)
          yield* Effect.all(
            Array.from({ length: 8 }, () =>
              store.issueToken({
                tokenHash: unique("th"),
                purpose: "verify-email",
                userId: user.id,
                createdAt: 1,
                expiresAt: 2
              })),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(yield* rows("userharbor_tokens", "user_id", user.id), 1)
        }))

      it.effect("deleteUser removes sessions and tokens through the foreign keys' cascade", () =>
        Effect.gen(function*() {
          const store = yield* UserStore
          const user = userRecord()
          yield* store.insertUser(user)
          yield* store.insertSession(session(user.id))
          yield* store.insertSession(session(user.id))
          yield* store.issueToken({
            tokenHash: unique("th"),
            purpose: "verify-email",
            userId: user.id,
            createdAt: 1,
            expiresAt: 2
          })
          assert.isTrue(yield* store.deleteUser(user.id))
          assert.strictEqual(yield* rows("userharbor_sessions", "user_id", user.id), 0)
          assert.strictEqual(yield* rows("userharbor_tokens", "user_id", user.id), 0)
          assert.isFalse(yield* store.deleteUser(user.id))
        }))

      it.effect("a session for a user that does not exist is refused by the foreign key", () =>
        Effect.gen(function*() {
          const store = yield* UserStore
          const error = yield* Effect.flip(store.insertSession(session(UserId.make(unique("ghost")))))
          assert.strictEqual(error.operation, "insertSession")
        }))
    })

    describe("transactions", () => {
      const inserted = (user: UserRecord) => Effect.map(UserStore, (store) => store.findUserById(user.id))

      it.effect("commit, rollback on failure, defect and interruption", () =>
        Effect.gen(function*() {
          const store = yield* UserStore
          const committed = userRecord()
          yield* store.withTransaction(store.insertUser(committed))
          assert.isTrue(Option.isSome(yield* yield* inserted(committed)))

          const failed = userRecord()
          const failure = yield* Effect.flip(store.withTransaction(
            Effect.zipRight(store.insertUser(failed), Effect.fail(new Boom()))
          ))
          assert.strictEqual(failure._tag, "Boom")
          assert.isTrue(Option.isNone(yield* yield* inserted(failed)))

          const defected = userRecord()
          const exit = yield* Effect.exit(store.withTransaction(
            Effect.zipRight(store.insertUser(defected), Effect.die("boom"))
          ))
          assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
          assert.isTrue(Option.isNone(yield* yield* inserted(defected)))

          const interrupted = userRecord()
          const written = yield* Deferred.make<void>()
          const fiber = yield* Effect.fork(store.withTransaction(
            store.insertUser(interrupted).pipe(
              Effect.zipRight(Deferred.succeed(written, undefined)),
              Effect.zipRight(Effect.never)
            )
          ))
          // Interrupt once the row is written inside the open transaction.
          yield* Deferred.await(written)
          yield* Fiber.interrupt(fiber)
          assert.isTrue(Option.isNone(yield* yield* inserted(interrupted)))
        }))

      // Under `TestClock` (which `it.effect` provides) a retry that paused on the fiber's clock would never wake.
      it.effect(
        "a transaction rolled back for a serialization failure is run again, also under TestClock",
        () =>
          Effect.gen(function*() {
            const store = yield* UserStore
            let attempts = 0
            const result = yield* store.withTransaction(Effect.suspend(() => {
              attempts++
              return attempts <= 2
                ? Effect.fail(new SqlError({ cause: { code: "40001" }, message: "simulated serialization failure" }))
                : Effect.succeed("committed")
            }))
            assert.strictEqual(result, "committed")
            assert.strictEqual(attempts, 3)
          }),
        10_000
      )

      // SQLite has one connection, so two transactions cannot cross: the second waits for the first. Nested: the
      // deadlock happens inside a savepoint; MariaDB then rolls back the whole transaction, savepoint included, so
      // the savepoint's own rollback fails (ER_SP_DOES_NOT_EXIST) and hides the deadlock.
      for (const nested of [false, true]) {
        it.effect.skipIf(name.startsWith("sqlite"))(
          `two transactions that deadlock${
            nested ? " inside a savepoint" : ""
          }: the database aborts one and the store runs it again, under TestClock`,
          () =>
            Effect.gen(function*() {
              const store = yield* UserStore
              const [a, b] = [userRecord(), userRecord()]
              yield* store.insertUser(a)
              yield* store.insertUser(b)
              const [aLocked, bLocked] = [yield* Deferred.make<void>(), yield* Deferred.make<void>()]
              let attempts = 0
              const cross = (
                first: UserRecord,
                firstLocked: typeof aLocked,
                second: UserRecord,
                secondLocked: typeof aLocked
              ) => {
                const work = Effect.gen(function*() {
                  yield* store.markVerified(first.id)
                  yield* Deferred.succeed(firstLocked, undefined)
                  yield* Deferred.await(secondLocked)
                  yield* store.markVerified(second.id)
                })
                return store.withTransaction(
                  Effect.zipRight(Effect.sync(() => attempts++), nested ? store.withTransaction(work) : work)
                )
              }
              yield* Effect.all([cross(a, aLocked, b, bLocked), cross(b, bLocked, a, aLocked)], { concurrency: 2 })
              assert.isAtLeast(attempts, 3)
              for (const user of [a, b]) {
                assert.isTrue(Option.exists(yield* store.findUserById(user.id), (found) => found.verified))
              }
            }),
          30_000
        )
      }

      it.effect("a nested transaction's failure undoes only its own part", () =>
        Effect.gen(function*() {
          const store = yield* UserStore
          const outer = userRecord()
          const inner = userRecord()
          yield* store.withTransaction(Effect.gen(function*() {
            yield* store.insertUser(outer)
            const error = yield* Effect.flip(store.withTransaction(
              Effect.zipRight(store.insertUser(inner), Effect.fail(new Boom()))
            ))
            assert.strictEqual(error._tag, "Boom")
          }))
          assert.isTrue(Option.isSome(yield* yield* inserted(outer)))
          assert.isTrue(Option.isNone(yield* yield* inserted(inner)))
        }))

      it.effect("store calls join the app's own sql.withTransaction on the same client", () =>
        Effect.gen(function*() {
          const store = yield* UserStore
          const sql = yield* SqlClient.SqlClient
          const user = userRecord()
          const exit = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
            yield* store.insertUser(user)
            yield* store.insertSession(session(user.id))
            return yield* new Boom()
          })))
          assert.isTrue(Exit.isFailure(exit))
          assert.isTrue(Option.isNone(yield* yield* inserted(user)))
          assert.strictEqual(yield* rows("userharbor_sessions", "user_id", user.id), 0)
        }))
    })

    describe("purgeExpired", () => {
      it.effect("deletes expired sessions and tokens in batches of at most `limit`, and is idempotent", () =>
        Effect.gen(function*() {
          const store = yield* UserStore
          const sql = yield* SqlClient.SqlClient
          // Older than anything other tests write, so only this test's rows count.
          const now = -1_000
          const user = userRecord()
          yield* store.insertUser(user)
          for (let i = 0; i < 5; i++) yield* store.insertSession(session(user.id, { expiresAt: now - i }))
          const live = session(user.id, { expiresAt: now + 1 })
          yield* store.insertSession(live)
          const tokenUsers = [userRecord(), userRecord(), userRecord()]
          for (const [i, owner] of tokenUsers.entries()) {
            yield* store.insertUser(owner)
            yield* store.issueToken({
              tokenHash: unique("th"),
              purpose: i === 0 ? "verify-email" : "reset-password",
              userId: owner.id,
              createdAt: now - 10,
              expiresAt: i === 2 ? now + 1 : now
            })
          }
          assert.deepStrictEqual(
            [
              yield* store.purgeExpired(now, 3),
              yield* store.purgeExpired(now, 3),
              yield* store.purgeExpired(now, 3),
              yield* store.purgeExpired(now, 3)
            ],
            [3, 3, 1, 0]
          )
          assert.strictEqual(yield* store.purgeExpired(now, 0), 0)
          const left = yield* count(sql`SELECT COUNT(*) AS n FROM userharbor_sessions WHERE expires_at <= ${now + 1}`)
          assert.strictEqual(left, 1)
          assert.isTrue(Option.isSome(yield* store.findSession(live.tokenHash)))
          assert.strictEqual(yield* rows("userharbor_tokens", "user_id", tokenUsers[2]!.id), 1)
        }))
    })
  })
