/**
 * The throttling suite on the SQL store: SQLite in memory always, PostgreSQL and MariaDB when their URLs are set.
 * Every test gets a fresh database. No `layer(...)` block, for the reason given in `UserHarbor.sql.test.ts`.
 */
import * as SqliteUserStore from "../src/SqliteUserStore.js"
import { describeOn, mysqlStore, pgStore } from "./sqlDatabases.js"
import { throttlingSuite } from "./ThrottlingSuite.js"

throttlingSuite("sqlite :memory:", () => SqliteUserStore.layer({ filename: ":memory:" }))

describeOn("pg", "throttling", (url) => {
  throttlingSuite("postgres", () => pgStore(url))
})

describeOn("mysql", "throttling", (url) => {
  throttlingSuite("mysql", () => mysqlStore(url))
})
