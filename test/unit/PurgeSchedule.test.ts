import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Logger, Ref, Schedule, Schema, Scope, TestClock } from "effect"
import * as PurgeSchedule from "../../src/PurgeSchedule.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import { SessionId } from "../../src/User.js"
import { TokenHash, UserStore } from "../../src/UserStore.js"
import { userRecord } from "../support/storeRecords.js"

const Count = Schema.Array(Schema.Struct({ n: Schema.Number }))
const sessionCount = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql`SELECT COUNT(*) AS n FROM userharbor_sessions`.pipe(
      Effect.orDie,
      Effect.flatMap(Schema.decodeUnknown(Count)),
      Effect.map((rows) => rows[0]?.n ?? -1)
    )
)

/** Lets the background fiber run (its I/O is synchronous on SQLite) until `done` holds, or gives up. */
const eventually = (done: Effect.Effect<boolean, unknown, SqlClient.SqlClient>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      if (yield* done) return true
      yield* Effect.yieldNow()
    }
    return false
  })

const addSessions = (count: number, expiresAt: number) =>
  Effect.gen(function*() {
    const store = yield* UserStore
    const user = userRecord()
    yield* store.insertUser(user)
    for (let i = 0; i < count; i++) {
      yield* store.insertSession({
        id: SessionId.make(`${user.id}-${i}`),
        tokenHash: TokenHash.make(`${user.id}-hash-${i}`),
        userId: user.id,
        createdAt: 0,
        expiresAt,
        lastUsedAt: 0
      })
    }
  })

describe("PurgeSchedule", () => {
  it.effect("purges in batches on its schedule, logs failures and keeps going, and stops with its scope", () =>
    Effect.gen(function*() {
      const logs = yield* Ref.make<ReadonlyArray<string>>([])
      const logger = Logger.make(({ message }) => Effect.runSync(Ref.update(logs, (all) => [...all, String(message)])))
      const sql = yield* SqlClient.SqlClient
      yield* addSessions(5, 1_000)

      const scope = yield* Scope.make()
      const purge = PurgeSchedule.layer({ schedule: Schedule.spaced("1 hour"), batchSize: 2 })
      yield* Layer.buildWithScope(purge, scope).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      // The first run, at 0, finds nothing expired.
      yield* Effect.yieldNow()
      assert.strictEqual(yield* sessionCount, 5)

      yield* TestClock.adjust("1 hour")
      assert.isTrue(yield* eventually(Effect.map(sessionCount, (n) => n === 0)), "purged after an hour")

      // A failing run is logged and the schedule goes on.
      yield* addSessions(3, 3_600_000 + 1)
      yield* sql`ALTER TABLE userharbor_sessions RENAME TO userharbor_sessions_away`
      yield* TestClock.adjust("1 hour")
      assert.isTrue(
        yield* eventually(Effect.map(Ref.get(logs), (all) => all.some((m) => m.includes("purging expired")))),
        "the failure was logged"
      )
      yield* sql`ALTER TABLE userharbor_sessions_away RENAME TO userharbor_sessions`
      assert.strictEqual(yield* sessionCount, 3)
      yield* TestClock.adjust("1 hour")
      assert.isTrue(yield* eventually(Effect.map(sessionCount, (n) => n === 0)), "purged on the next run")

      // Once the scope closes, nothing runs any more.
      yield* Scope.close(scope, Exit.void)
      yield* addSessions(2, 3 * 3_600_000 + 1)
      yield* TestClock.adjust("5 hours")
      for (let i = 0; i < 50; i++) yield* Effect.yieldNow()
      assert.strictEqual(yield* sessionCount, 2)
    }).pipe(Effect.provide(SqliteUserStore.layer({ filename: ":memory:" }))))

  it.effect("purgeAll empties a backlog batch by batch and returns the total", () =>
    Effect.gen(function*() {
      yield* addSessions(7, 10)
      yield* TestClock.setTime(10)
      assert.strictEqual(yield* PurgeSchedule.purgeAll(3), 7)
      assert.strictEqual(yield* PurgeSchedule.purgeAll(3), 0)
      assert.strictEqual(yield* sessionCount, 0)
    }).pipe(Effect.provide(SqliteUserStore.layer({ filename: ":memory:" }))))
})
