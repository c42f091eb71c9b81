import { assert, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as PgUserStore from "../src/PgUserStore.js"
import { describeOn, pgSchema, pgStore } from "./sqlDatabases.js"
import { outageTests } from "./SqlOutage.js"
import { sqlSuite } from "./SqlStoreSuite.js"
import { conformanceSuite } from "./StoreConformanceSuite.js"

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
