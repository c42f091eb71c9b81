/**
 * SQL-specific checks of `SqlUserStore`, run against every backend: the schema's own constraints, migrations,
 * retries of aborted transactions, the app's `sql.withTransaction`, exact batches. The store contract itself lives
 * in `StoreConformance` only, which every backend here runs too; in particular (case names):
 * - "instants up to Date's maximum (year 9999, 8.64e15) round-trip exactly through every read path";
 * - "insertUser reports UsernameTaken when username and email both collide", "a duplicate username key is
 *   UsernameTaken, never a StoreError, in and out of transactions" (and the email twin), "keys are compared
 *   exactly: keys differing only in letter case are distinct";
 * - "a refused insertUser inside a transaction leaves the transaction usable and committable";
 * - "20 concurrent consumeToken calls: exactly one gets the record", "8 concurrent issueToken calls for one user and
 *   purpose leave exactly one token";
 * - "deleteUser removes the user's sessions and tokens of both purposes, and no one else's";
 * - "withTransaction commits every write and returns the body's value", "a failed transaction rolls back every kind
 *   of write", "a defect in the transaction rolls it back and stays a defect", "an interrupted transaction rolls
 *   back", "a failed nested transaction undoes only its own writes".
 * Rows persist across the tests of one block, so every test uses its own ids.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { assert, describe, layer } from "@effect/vitest"
import { Deferred, Effect, Exit, type Layer, Option, Schema } from "effect"
import { StoreError } from "../../src/Errors.js"
import * as SqlMigrations from "../../src/SqlMigrations.js"
import { UserId } from "../../src/User.js"
import { TokenHash, type UserRecord, UserStore } from "../../src/UserStore.js"
import { session, unique, userRecord } from "../support/storeRecords.js"

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
    })

    describe("tokens and cascades", () => {
      it.effect("a session for a user that does not exist is refused by the foreign key", () =>
        Effect.gen(function*() {
          const store = yield* UserStore
          const error = yield* Effect.flip(store.insertSession(session(UserId.make(unique("ghost")))))
          assert.strictEqual(error.operation, "insertSession")
        }))
    })

    describe("transactions", () => {
      const inserted = (user: UserRecord) => Effect.map(UserStore, (store) => store.findUserById(user.id))

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
              tokenHash: TokenHash.make(unique("th")),
              purpose: i === 0 ? "verify-email" : "reset-password",
              userId: owner.id,
              createdAt: now - 10,
              expiresAt: i === 2 ? now + 1 : now
            })
          }
          assert.deepStrictEqual(
            [
              yield* store.purgeExpired({ now, limit: 3 }),
              yield* store.purgeExpired({ now, limit: 3 }),
              yield* store.purgeExpired({ now, limit: 3 }),
              yield* store.purgeExpired({ now, limit: 3 })
            ],
            [3, 3, 1, 0]
          )
          assert.strictEqual(yield* store.purgeExpired({ now, limit: 0 }), 0)
          const left = yield* count(sql`SELECT COUNT(*) AS n FROM userharbor_sessions WHERE expires_at <= ${now + 1}`)
          assert.strictEqual(left, 1)
          assert.isTrue(Option.isSome(yield* store.findSession(live.tokenHash)))
          assert.strictEqual(yield* rows("userharbor_tokens", "user_id", tokenUsers[2]!.id), 1)
        }))
    })
  })
