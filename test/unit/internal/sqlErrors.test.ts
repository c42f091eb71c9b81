/**
 * The one SQL error classification, on errors the real drivers raise: a duplicate key is `UniqueViolation` (and
 * the store turns it into `UsernameTaken` or `EmailTaken`, never a `StoreError`), the codes the store retries are
 * `Transient`, anything else is `Other`. SQLite always runs; PostgreSQL and MariaDB/MySQL when their URLs are set.
 * The store here is `SqlUserStore.layer` on the driver's plain client: no session fast path.
 */
import * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { StoreError } from "../../../src/Errors.js"
import * as SqlErrors from "../../../src/internal/sqlErrors.js"
import * as PgUserStore from "../../../src/PgUserStore.js"
import * as SqlUserStore from "../../../src/SqlUserStore.js"
import { UserId } from "../../../src/User.js"
import { EmailKey, UsernameKey, type UserRecord, UserStore } from "../../../src/UserStore.js"
import { describeOn, mysqlDatabase, pgSchema } from "../../support/sqlDatabases.js"

const user = (name: string, email: string): UserRecord => ({
  id: UserId.make(`id-${name}-${email}`),
  username: name,
  usernameKey: UsernameKey.make(name),
  email,
  emailKey: EmailKey.make(email),
  passwordHash: "hash",
  passwordVersion: 1,
  verified: false,
  createdAt: 1
})

const sqlFailure = <A, R>(statement: Effect.Effect<A, SqlError, R>) =>
  Effect.flatMap(
    Effect.flip(statement),
    (error) => error instanceof SqlError ? Effect.succeed(error) : Effect.dieMessage("not an SqlError")
  )

const sharedCases = (
  client: () => Layer.Layer<SqlClient.SqlClient>,
  transient: ReadonlyArray<readonly [code: string, statement: string]>
) => {
  it.effect("a duplicate key from the driver is a UniqueViolation, and a syntax error Other", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE userharbor_classify (k VARCHAR(16) NOT NULL PRIMARY KEY, u VARCHAR(16) NOT NULL UNIQUE)`
      yield* sql`INSERT INTO userharbor_classify (k, u) VALUES ('a', 'x')`
      const byPrimaryKey = yield* sqlFailure(sql`INSERT INTO userharbor_classify (k, u) VALUES ('a', 'y')`)
      const byUnique = yield* sqlFailure(sql`INSERT INTO userharbor_classify (k, u) VALUES ('b', 'x')`)
      assert.strictEqual(SqlErrors.classify(byPrimaryKey), "UniqueViolation")
      assert.strictEqual(SqlErrors.classify(byUnique), "UniqueViolation")
      assert.isTrue(SqlUserStore.isUniqueViolation(byUnique))
      const syntax = yield* sqlFailure(sql.unsafe("SELEC 1"))
      assert.strictEqual(SqlErrors.classify(syntax), "Other")
      assert.isFalse(SqlErrors.isTransient(syntax))
      yield* sql`DROP TABLE userharbor_classify`
    }).pipe(Effect.provide(client())))

  for (const [code, statement] of transient) {
    it.effect(`${code} from the driver is Transient, also inside a StoreError`, () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const error = yield* sqlFailure(sql.unsafe(statement))
        assert.strictEqual(SqlErrors.driverErrorCode(error.cause), code)
        assert.strictEqual(SqlErrors.classify(error), "Transient")
        assert.isTrue(SqlErrors.isTransient(error))
        assert.isTrue(SqlErrors.isTransient(new StoreError({ operation: "test", cause: error })))
      }).pipe(Effect.provide(client())))
  }

  it.effect("insertUser: a duplicate username is UsernameTaken and a duplicate email EmailTaken, never StoreError", () =>
    Effect.gen(function*() {
      const store = yield* UserStore
      yield* store.insertUser(user("ann", "ann@example.com"))
      const username = yield* Effect.flip(store.insertUser(user("ann", "other@example.com")))
      const email = yield* Effect.flip(store.insertUser(user("bob", "ann@example.com")))
      assert.strictEqual(username._tag, "UsernameTaken")
      assert.strictEqual(email._tag, "EmailTaken")
      // Inside a transaction too, where the insert runs in a savepoint.
      const nested = yield* Effect.flip(store.withTransaction(store.insertUser(user("ann", "third@example.com"))))
      assert.strictEqual(nested._tag, "UsernameTaken")
    }).pipe(Effect.provide(SqlUserStore.layer.pipe(Layer.provideMerge(client())))))
}

describe("sqlErrors on SQLite", () => {
  sharedCases(() => Layer.orDie(SqliteClient.layer({ filename: ":memory:" })), [])
})

describeOn("pg", "sqlErrors", (url) => {
  const raise = (code: string) => `DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '${code}'; END $$`
  sharedCases(
    () =>
      Layer.orDie(
        Layer.unwrapScoped(Effect.map(pgSchema(url), (scoped) => PgClient.layer({ url: Redacted.make(scoped) })))
      ),
    [["40P01", raise("40P01")], ["40001", raise("40001")]]
  )

  // pg's client-side query_timeout (`PgUserStore`'s `queryTimeout`) fails the query with a plain Error, no code.
  it.effect("a query timeout (pg's \"Query read timeout\") is Other, never Transient (not retried)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const error = yield* sqlFailure(sql`SELECT pg_sleep(1)`)
      assert.strictEqual(error.cause instanceof Error ? error.cause.message : undefined, "Query read timeout")
      assert.strictEqual(SqlErrors.classify(error), "Other")
      assert.isFalse(SqlErrors.isTransient(error))
    }).pipe(
      Effect.provide(Layer.orDie(PgUserStore.layerClient({ url: Redacted.make(url), queryTimeout: "100 millis" })))
    ))
})

describeOn("mysql", "sqlErrors", (url) => {
  sharedCases(
    () =>
      Layer.orDie(
        Layer.unwrapScoped(
          Effect.map(mysqlDatabase(url), (scoped) => MysqlClient.layer({ url: Redacted.make(scoped) }))
        )
      ),
    [["ER_SP_DOES_NOT_EXIST", "ROLLBACK TO SAVEPOINT userharbor_no_such_savepoint"]]
  )
})
