/**
 * Harness for docs/storage.md's "Joining the app's transaction" (`<!-- docs:run harness=join-transaction -->`):
 * the account and the app's profile row go together, and when the app's statement fails, the account stays too
 * (the store's delete joined the app's transaction and was rolled back with it).
 */
import { SqlClient } from "@effect/sql"
import { Effect, Exit, Option } from "effect"
import { strictEqual } from "node:assert"
import { UserHarbor, Username, UserStore } from "userharbor"
import { SqliteUserStore } from "userharbor/sqlite"
import { UserHarborTest } from "userharbor/testing"
import { deleteUserAndProfile } from "./BLOCK.js"

const program = Effect.gen(function*() {
  const harbor = yield* UserHarbor.UserHarbor
  const store = yield* UserStore.UserStore
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE app_profiles (user_id VARCHAR(64) PRIMARY KEY, display_name TEXT NOT NULL)`

  const accountOf = (username: string) =>
    Effect.gen(function*() {
      yield* harbor.register({ username, email: `${username}@example.com`, password: "StrongPassword123!" })
      const user = yield* store.findUserByUsername(Username.canonical(username))
      if (Option.isNone(user)) return yield* Effect.dieMessage(`${username} was not stored`)
      yield* sql`INSERT INTO app_profiles (user_id, display_name) VALUES (${user.value.id}, ${username})`
      return user.value.id
    })
  const profiles = (id: string) =>
    Effect.map(
      sql<{ readonly n: number }>`SELECT count(*) AS n FROM app_profiles WHERE user_id = ${id}`,
      (rows) => rows[0]?.n ?? -1
    )

  const jane = yield* accountOf("jane")
  yield* deleteUserAndProfile(jane)
  strictEqual(Option.isNone(yield* store.findUserById(jane)), true, "jane's account is deleted")
  strictEqual(yield* profiles(jane), 0, "jane's profile is deleted")

  const john = yield* accountOf("john")
  yield* sql`CREATE TRIGGER refuse_delete BEFORE DELETE ON app_profiles BEGIN SELECT RAISE(ABORT, 'refused'); END`
  const exit = yield* Effect.exit(deleteUserAndProfile(john))
  strictEqual(Exit.isFailure(exit), true, "the profile delete fails")
  strictEqual(Option.isSome(yield* store.findUserById(john)), true, "john's account was rolled back, not deleted")
  strictEqual(yield* profiles(john), 1, "john's profile is still there")
})

await Effect.runPromise(
  program.pipe(Effect.provide(UserHarborTest.layerWithStore(SqliteUserStore.layer({ filename: "app.db" }))))
)
console.log("the store's delete joined the app's transaction: committed together, rolled back together")
