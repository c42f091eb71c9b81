/**
 * The SQL store on MariaDB/MySQL, when `USERHARBOR_TEST_MYSQL_URL` is set: the behaviour and throttling suites, the
 * outbox workers, the login flood, then the SQL suite, the store conformance suite, the outage suite and the
 * connection failures. Each layer gets a database of its own (`support/sqlDatabases.ts`); every behaviour and
 * throttling test gets a fresh one.
 *
 * The block with the `layer(...)` suites (SQL, conformance) comes last: @effect/vitest's `layer` rebinds the shared
 * `it.effect` to its own runtime and TestClock for every test collected after it (`it.live` is not rebound).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as MysqlUserStore from "../../src/MysqlUserStore.js"
import { UserHarbor } from "../../src/UserHarbor.js"
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
import { harborOn } from "../support/harborOn.js"
import { describeOn, mysqlDatabase, mysqlStore } from "../support/sqlDatabases.js"

describeOn("mysql", "behaviour", (url) => {
  behaviourSuite("mysql", () => UserHarborTest.layerWithStore(mysqlStore(url)))
})

describeOn("mysql", "second factors", (url) => {
  secondFactorsSuite("mysql", () => UserHarborTest.layerWithStore(mysqlStore(url)))
})

describeOn("mysql", "administration", (url) => {
  administrationSuite("mysql", () => mysqlStore(url))
})

describeOn("mysql", "throttling", (url) => {
  throttlingSuite("mysql", () => mysqlStore(url))
})

describe("outbox retries on SQL stores", () => {
  describeOn("mysql", "outbox retries", (url) => outboxRetry("mysql", () => mysqlStore(url)))
})

describe("outbox workers on SQL stores", () => {
  describeOn("mysql", "outbox workers", (url) => outboxRace("mysql", () => mysqlStore(url)))
})

describeOn("mysql", "login flood", (url) => {
  loginFlood(() => mysqlStore(url, { maxConnections: 10 }))
})

describeOn("mysql", "", (url) => {
  sqlSuite("mysql", mysqlStore(url))
  conformanceSuite("mysql", mysqlStore(url))

  outageTests(
    "MariaDB",
    Number(new URL(url).port || 3306),
    (port) =>
      Layer.unwrapScoped(Effect.map(mysqlDatabase(url), (scoped) => {
        const viaProxy = new URL(scoped)
        viaProxy.port = String(port)
        return MysqlUserStore.layer({ url: Redacted.make(viaProxy.toString()), connectTimeout: "1 second" })
      }))
  )

  it.live("an unreachable server fails with a StoreError in bounded time, naming no URL or password", () =>
    Effect.gen(function*() {
      const started = performance.now()
      const error = yield* Effect.flip(Layer.build(MysqlUserStore.layer({
        url: Redacted.make("mysql://harbor:hunter2-secret@127.0.0.1:1/userharbor_db")
      })))
      const elapsed = performance.now() - started
      console.log(`MySQL at 127.0.0.1:1 failed after ${elapsed.toFixed(0)} ms`)
      assert.strictEqual(error._tag, "StoreError")
      assert.isBelow(elapsed, 5_000)
      const shown = [error.message, JSON.stringify(error), String(error)].join("\n")
      for (const leak of ["hunter2", "harbor:", "userharbor_db", "mysql://"]) {
        assert.notInclude(shown, leak)
      }
    }).pipe(Effect.scoped))

  it.effect("a malformed URL is a StoreError that does not quote it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(MysqlUserStore.layer({ url: Redacted.make("not a url hunter2") })))
      assert.strictEqual(error.operation, "connect")
      assert.notInclude(JSON.stringify(error) + error.message, "hunter2")
    }).pipe(Effect.scoped))
})

describeOn("mysql", "under contention", (url) => {
  // Concurrent registrations upsert tokens into a table with two unique keys and a foreign key; InnoDB's next-key
  // locks then deadlock some of them, and the store must start those transactions over instead of failing.
  it.live("40 concurrent registrations of different users all succeed", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarbor
      const tag = Math.random().toString(36).slice(2, 8)
      const outcomes = yield* Effect.forEach(
        Array.from({ length: 40 }, (_, i) => i),
        (i) =>
          harbor.register({
            username: `crowd${tag}${i}`,
            email: `crowd.${tag}.${i}@example.com`,
            password: "Crowded-pass-1!"
          }).pipe(Effect.as("ok"), Effect.catchAll((error) => Effect.succeed(error._tag))),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(outcomes.filter((outcome) => outcome !== "ok"), [])
    }).pipe(Effect.provide(harborOn(mysqlStore(url, { maxConnections: 20 })))), { timeout: 60_000 })

  it.live(
    "20 concurrent password-reset requests for one account all succeed and leave one live token",
    () =>
      Effect.gen(function*() {
        const harbor = yield* UserHarbor
        const tag = Math.random().toString(36).slice(2, 8)
        const email = `contended.${tag}@example.com`
        yield* harbor.register({ username: `contended${tag}`, email, password: "Contended-pass-1!" })
        const outcomes = yield* Effect.forEach(
          Array.from({ length: 20 }, () => harbor.sendPasswordReset(email)),
          (request) => request.pipe(Effect.as("ok"), Effect.catchAll((error) => Effect.succeed(error._tag))),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(outcomes.filter((outcome) => outcome !== "ok"), [])
      }).pipe(Effect.provide(harborOn(mysqlStore(url, { maxConnections: 20 })))),
    { timeout: 60_000 }
  )
})
