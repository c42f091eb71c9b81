/**
 * The `UserHarbor` behaviour suite on the SQL store: SQLite in memory always, PostgreSQL and MariaDB when their URLs
 * are set. Every test gets a fresh database (the behaviour cases expect an empty store: their ids and tokens repeat).
 * This file has no `layer(...)` block: @effect/vitest's `layer` rebinds the shared `it.effect` to its own runtime
 * and TestClock for every test collected after it, which would leak the clock between these tests.
 */
import * as SqliteUserStore from "../src/SqliteUserStore.js"
import * as UserHarborTest from "../src/UserHarborTest.js"
import { describeOn, mysqlStore, pgStore } from "./sqlDatabases.js"
import { behaviourSuite } from "./UserHarborSuite.js"

behaviourSuite("sqlite :memory:", () => UserHarborTest.layerWithStore(SqliteUserStore.layer({ filename: ":memory:" })))
// Outbox mode on SQLite only: the outbox statements have their own conformance suite on every database.
behaviourSuite(
  "sqlite :memory:",
  () => UserHarborTest.layerOutboxWithStore(SqliteUserStore.layer({ filename: ":memory:" })),
  "outbox"
)

describeOn("pg", "behaviour", (url) => {
  behaviourSuite("postgres", () => UserHarborTest.layerWithStore(pgStore(url)))
})

describeOn("mysql", "behaviour", (url) => {
  behaviourSuite("mysql", () => UserHarborTest.layerWithStore(mysqlStore(url)))
})
