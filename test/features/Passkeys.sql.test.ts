import { describe } from "@effect/vitest"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { passkeyOptions, suite } from "../suites/PasskeysSuite.js"
import { mysqlStore, pgStore } from "../support/sqlDatabases.js"

suite(
  "sqlite :memory:",
  () => UserHarborTest.layerWithStore(SqliteUserStore.layer({ filename: ":memory:" }), { passkeys: passkeyOptions })
)

const pgUrl = process.env.USERHARBOR_TEST_PG_URL
describe.runIf(pgUrl !== undefined)("postgres", () => {
  suite("postgres", () => UserHarborTest.layerWithStore(pgStore(pgUrl ?? ""), { passkeys: passkeyOptions }))
})

const mysqlUrl = process.env.USERHARBOR_TEST_MYSQL_URL
describe.runIf(mysqlUrl !== undefined)("mysql", () => {
  suite("mysql", () => UserHarborTest.layerWithStore(mysqlStore(mysqlUrl ?? ""), { passkeys: passkeyOptions }))
})
