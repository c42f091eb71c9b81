/**
 * The throttling suite on the SQL store: SQLite in memory always, PostgreSQL and MariaDB when their URLs are set.
 * Every test gets a fresh database. No `layer(...)` block, for the reason given in `UserHarbor.sql.test.ts`.
 */
import { describe } from "@effect/vitest"
import * as SqliteUserStore from "../src/SqliteUserStore.js"
import { mysqlStore, mysqlUrl, notice, pgStore, pgUrl } from "./sqlDatabases.js"
import { throttlingSuite } from "./ThrottlingSuite.js"

notice("PostgreSQL throttling", "USERHARBOR_TEST_PG_URL", pgUrl)
notice("MariaDB/MySQL throttling", "USERHARBOR_TEST_MYSQL_URL", mysqlUrl)

throttlingSuite("sqlite :memory:", () => SqliteUserStore.layer({ filename: ":memory:" }))

describe.runIf(pgUrl !== undefined)("PostgreSQL", () => {
  throttlingSuite("postgres", () => pgStore(pgUrl ?? ""))
})

describe.runIf(mysqlUrl !== undefined)("MariaDB/MySQL", () => {
  throttlingSuite("mysql", () => mysqlStore(mysqlUrl ?? ""))
})
