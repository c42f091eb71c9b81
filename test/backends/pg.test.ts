/**
 * The SQL store on PostgreSQL, when `USERHARBOR_TEST_PG_URL` is set: the behaviour and throttling suites, the
 * outbox workers, the login flood, then the SQL suite, the store conformance suite, the outage suite and the
 * connection failures. Each layer gets a schema of its own (`support/sqlDatabases.ts`); every behaviour and
 * throttling test gets a fresh one.
 *
 * The block with the `layer(...)` suites (SQL, conformance) comes last: @effect/vitest's `layer` rebinds the shared
 * `it.effect` to its own runtime and TestClock for every test collected after it (`it.live` is not rebound).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as PgUserStore from "../../src/PgUserStore.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { administrationSuite } from "../suites/AdministrationSuite.js"
import { loginFlood } from "../suites/LoginFloodSuite.js"
import { outboxRace, outboxRetry } from "../suites/OutboxSqlSuite.js"
import { secondFactorsSuite } from "../suites/SecondFactorsSuite.js"
import { outageTests } from "../suites/SqlOutageSuite.js"
import { sqlSuite } from "../suites/SqlStoreSuite.js"
import { conformanceSuite } from "../suites/StoreConformanceSuite.js"
import { throttlingSuite } from "../suites/ThrottlingSuite.js"
import { behaviourSuite } from "../suites/UserHarborSuite.js"
import { describeOn, pgSchema, pgStore } from "../support/sqlDatabases.js"

describeOn("pg", "behaviour", (url) => {
  behaviourSuite("postgres", () => UserHarborTest.layerWithStore(pgStore(url)))
})

describeOn("pg", "second factors", (url) => {
  secondFactorsSuite("postgres", () => UserHarborTest.layerWithStore(pgStore(url)))
})

describeOn("pg", "administration", (url) => {
  administrationSuite("postgres", () => pgStore(url))
})

describeOn("pg", "throttling", (url) => {
  throttlingSuite("postgres", () => pgStore(url))
})

describe("outbox retries on SQL stores", () => {
  describeOn("pg", "outbox retries", (url) => outboxRetry("postgres", () => pgStore(url)))
})

describe("outbox workers on SQL stores", () => {
  describeOn("pg", "outbox workers", (url) => outboxRace("postgres", () => pgStore(url)))
})

describeOn("pg", "login flood", (url) => {
  loginFlood(() => pgStore(url, { maxConnections: 10 }))
})

describeOn("pg", "", (url) => {
  sqlSuite("postgres", pgStore(url))
  conformanceSuite("postgres", pgStore(url))

  outageTests(
    "PostgreSQL",
    Number(new URL(url).port || 5432),
    (port) =>
      Layer.unwrapScoped(Effect.map(pgSchema(url), (scoped) => {
        const viaProxy = new URL(scoped)
        viaProxy.port = String(port)
        return PgUserStore.layer({ url: Redacted.make(viaProxy.toString()), connectTimeout: "1 second" })
      }))
  )

  it.live("an unreachable server fails with a StoreError in bounded time, naming no URL or password", () =>
    Effect.gen(function*() {
      const started = performance.now()
      const error = yield* Effect.flip(Layer.build(PgUserStore.layer({
        url: Redacted.make("postgres://harbor:hunter2-secret@127.0.0.1:1/userharbor_db")
      })))
      const elapsed = performance.now() - started
      console.log(`PostgreSQL at 127.0.0.1:1 failed after ${elapsed.toFixed(0)} ms`)
      assert.strictEqual(error._tag, "StoreError")
      assert.isBelow(elapsed, 5_000)
      const shown = [error.message, JSON.stringify(error), String(error)].join("\n")
      for (const leak of ["hunter2", "harbor:", "userharbor_db", "postgres://"]) {
        assert.notInclude(shown, leak)
      }
    }).pipe(Effect.scoped))
})
