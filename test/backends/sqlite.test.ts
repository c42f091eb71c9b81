/**
 * The SQL store on SQLite, always run: the behaviour suite (inline, and outbox delivery on SQLite only: the outbox
 * statements have their own conformance cases on every database), the throttling suite, the outbox workers, the
 * SQLite-specific checks, then the SQL suite and the store conformance suite on `:memory:` and on a file.
 *
 * Every behaviour and throttling test gets a fresh database (the behaviour cases expect an empty store: their ids and
 * tokens repeat). The `layer(...)` suites (SQL, conformance) come last: @effect/vitest's `layer` rebinds the shared
 * `it.effect` to its own runtime and TestClock for every test collected after it, which would leak one clock
 * between the tests above.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Schema } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import * as SqlUserStore from "../../src/SqlUserStore.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { EmailKey, UserStore } from "../../src/UserStore.js"
import { administrationSuite } from "../suites/AdministrationSuite.js"
import { outboxRace, outboxRetry } from "../suites/OutboxSqlSuite.js"
import { secondFactorsSuite } from "../suites/SecondFactorsSuite.js"
import { sqlSuite } from "../suites/SqlStoreSuite.js"
import { conformanceSuite } from "../suites/StoreConformanceSuite.js"
import { throttlingSuite } from "../suites/ThrottlingSuite.js"
import { behaviourSuite } from "../suites/UserHarborSuite.js"
import { userRecord } from "../support/storeRecords.js"

const dir = mkdtempSync(join(tmpdir(), "userharbor-sqlite-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

behaviourSuite("sqlite :memory:", () => UserHarborTest.layerWithStore(SqliteUserStore.layer({ filename: ":memory:" })))
behaviourSuite(
  "sqlite :memory:",
  () => UserHarborTest.layerOutboxWithStore(SqliteUserStore.layer({ filename: ":memory:" })),
  "outbox"
)

throttlingSuite("sqlite :memory:", () => SqliteUserStore.layer({ filename: ":memory:" }))
secondFactorsSuite(
  "sqlite :memory:",
  () => UserHarborTest.layerWithStore(SqliteUserStore.layer({ filename: ":memory:" }))
)

administrationSuite("sqlite :memory:", () => SqliteUserStore.layer({ filename: ":memory:" }))

describe("outbox retries on SQL stores", () => {
  outboxRetry("sqlite :memory:", () => SqliteUserStore.layer({ filename: ":memory:" }))
})

describe("outbox workers on SQL stores", () => {
  outboxRace("sqlite file", () => SqliteUserStore.layer({ filename: join(dir, "race.db") }))
})

const Pragma = Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Union(Schema.String, Schema.Number) }))
const pragma = (name: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.unsafe(`PRAGMA ${name}`).pipe(
      Effect.orDie,
      Effect.flatMap(Schema.decodeUnknown(Pragma)),
      Effect.map((rows) => Object.values(rows[0] ?? {})[0])
    ))

describe("SqliteUserStore", () => {
  it.effect("opens a file in WAL mode with foreign keys on and a busy timeout, and keeps data across opens", () =>
    Effect.gen(function*() {
      const filename = join(dir, "reopen.db")
      const user = userRecord()
      yield* Effect.gen(function*() {
        assert.strictEqual(yield* pragma("journal_mode"), "wal")
        assert.strictEqual(yield* pragma("foreign_keys"), 1)
        assert.strictEqual(yield* pragma("busy_timeout"), 2500)
        yield* Effect.flatMap(UserStore, (store) => store.insertUser(user))
      }).pipe(Effect.provide(SqliteUserStore.layer({ filename, busyTimeout: "2500 millis" })))
      const found = yield* Effect.flatMap(UserStore, (store) => store.findUserById(user.id)).pipe(
        Effect.provide(SqliteUserStore.layer({ filename }))
      )
      assert.deepStrictEqual(found, Option.some(user))
    }))

  it.effect("a file that cannot be opened is a StoreError, not a defect", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(SqliteUserStore.layer({ filename: join(dir, "missing", "x.db") })))
      assert.strictEqual(error._tag, "StoreError")
      assert.strictEqual(error.operation, "connect")
      // The path is no secret, and the one thing the user needs to see (features/StartupFailures.test.ts has every case).
      assert.include(error.message, `directory ${JSON.stringify(join(dir, "missing"))} does not exist`)
    }).pipe(Effect.scoped))

  it.effect("a failing statement is a StoreError naming the operation, with no SQL in its message or JSON", () =>
    Effect.gen(function*() {
      // No migrations: every table is missing.
      const store = yield* UserStore
      const error = yield* Effect.flip(store.findUserByEmail(EmailKey.make("secret@example.com")))
      assert.strictEqual(error.operation, "findUserByEmail")
      assert.strictEqual(error.message, "User store failed during findUserByEmail")
      const json = JSON.stringify(error)
      for (const leak of ["SELECT", "userharbor_users", "secret@example.com"]) {
        assert.notInclude(error.message, leak)
        assert.notInclude(json, leak)
      }
    }).pipe(Effect.provide(SqlUserStore.layerWithoutMigrations.pipe(
      Layer.provide(SqliteUserStore.layerClient({ filename: ":memory:" }))
    ))))
})

// After the describe above: @effect/vitest's `layer` rebinds the shared `it.effect` to its own runtime (and
// TestClock) for every test collected after it.
sqlSuite("sqlite :memory:", SqliteUserStore.layer({ filename: ":memory:" }))
sqlSuite("sqlite file", SqliteUserStore.layer({ filename: join(dir, "suite.db") }))
conformanceSuite("sqlite :memory:", SqliteUserStore.layer({ filename: ":memory:" }))
conformanceSuite("sqlite file", SqliteUserStore.layer({ filename: join(dir, "conformance.db") }))
