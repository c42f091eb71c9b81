/**
 * The second-factor behaviour on the SQL store: SQLite in memory always, PostgreSQL and MariaDB when their URLs are
 * set. Every test gets a fresh database. No `layer(...)` block (see UserHarbor.sql.test.ts).
 */
import * as SqliteUserStore from "../src/SqliteUserStore.js"
import * as UserHarborTest from "../src/UserHarborTest.js"
import { secondFactorsSuite } from "./SecondFactorsSuite.js"
import { describeOn, mysqlStore, pgStore } from "./sqlDatabases.js"

secondFactorsSuite(
  "sqlite :memory:",
  () => UserHarborTest.layerWithStore(SqliteUserStore.layer({ filename: ":memory:" }))
)

describeOn("pg", "second factors", (url) => {
  secondFactorsSuite("postgres", () => UserHarborTest.layerWithStore(pgStore(url)))
})

describeOn("mysql", "second factors", (url) => {
  secondFactorsSuite("mysql", () => UserHarborTest.layerWithStore(mysqlStore(url)))
})
