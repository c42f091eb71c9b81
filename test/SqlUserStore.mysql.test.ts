import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as MysqlUserStore from "../src/MysqlUserStore.js"
import { mysqlDatabase, mysqlStore, mysqlUrl, notice } from "./sqlDatabases.js"
import { outageTests } from "./SqlOutage.js"
import { sqlSuite } from "./SqlStoreSuite.js"
import { conformanceSuite } from "./StoreConformanceSuite.js"

notice("MariaDB/MySQL", "USERHARBOR_TEST_MYSQL_URL", mysqlUrl)

describe.runIf(mysqlUrl !== undefined)("MariaDB/MySQL", () => {
  const url = mysqlUrl ?? ""
  sqlSuite("mysql", mysqlStore(url))
  conformanceSuite("mysql", mysqlStore(url))

  outageTests("MariaDB", Number(new URL(url).port || 3306), (port) =>
    Layer.unwrapScoped(Effect.map(mysqlDatabase(url), (scoped) => {
      const viaProxy = new URL(scoped)
      viaProxy.port = String(port)
      return MysqlUserStore.layer({ url: Redacted.make(viaProxy.toString()), connectTimeout: "1 second" })
    })))

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
      for (const leak of ["hunter2", "harbor:", "127.0.0.1", "userharbor_db", "mysql://"]) {
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
