/**
 * `PgUserStore`'s `queryTimeout` on a frozen server: a private PostgreSQL server (`SIGSTOP` on it and its backends,
 * connections left open) answers nothing, and the operations must fail with `StoreError` in bounded time instead
 * of waiting as long as the freeze (as a store without the option does, beside it); let go on, the same layer
 * serves again. The bounds are generous (a loaded 2-core CI machine); the printed durations are the figures in
 * docs/deployment.md.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { expect, it } from "@effect/vitest"
import { Clock, Context, Effect, Fiber, Layer, Redacted } from "effect"
import * as PgUserStore from "../../src/PgUserStore.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import { alice, bob, loggedIn, password } from "../support/fixtures.js"
import { harborOn } from "../support/harborOn.js"
import { privatePostgres } from "../support/privatePostgres.js"
import { describeOn } from "../support/sqlDatabases.js"

const timeoutMs = 1_000
// Twice the timeout (a transaction's ROLLBACK waits in turn behind the abandoned statement), plus slack.
const boundMs = 4_000

/** `self`'s outcome (`"ok"` or the error's tag) and how long it took, in ms. */
const timed = <A, E extends { readonly _tag: string }, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const outcome = yield* Effect.match(self, { onFailure: (error) => error._tag, onSuccess: () => "ok" })
    return { outcome, ms: (yield* Clock.currentTimeMillis) - start }
  })

/** Unverified accounts without their verification token: a registration half written. */
const halfWritten = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ readonly n: number }>`
    SELECT count(*)::int AS n FROM userharbor_users u
    WHERE NOT u.verified AND NOT EXISTS (
      SELECT 1 FROM userharbor_tokens t WHERE t.user_id = u.id AND t.purpose = 'verify-email'
    )`.pipe(Effect.map((rows) => rows[0]?.n ?? -1)))

/**
 * A private server and `UserHarbor` on `PgUserStore` there, with both timeouts at `timeoutMs`: a connection that
 * timed out is closed, and opening a new one to a frozen server waits for `connectTimeout`.
 */
const frozenLater = (options: Partial<PgUserStore.Options> = {}) =>
  Effect.gen(function*() {
    const server = yield* privatePostgres
    const store = PgUserStore.layer({
      url: Redacted.make(server.url),
      queryTimeout: `${timeoutMs} millis`,
      connectTimeout: `${timeoutMs} millis`,
      ...options
    })
    return { server, context: yield* Layer.build(harborOn(store)) }
  })

const newcomer = (name: string) => ({ username: name, email: `${name.toLowerCase()}@example.com`, password })

// The shared server is only the sign that CI runs PostgreSQL tests; the test starts a server of its own.
describeOn("pg", "queryTimeout on a frozen server", () => {
  it.live(
    "session check, login and registration fail with StoreError within the bound (without it: wait), then succeed",
    () =>
      Effect.gen(function*() {
        const { context, server } = yield* frozenLater()
        const run = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.provide(self, context)

        const session = yield* run(loggedIn(alice))
        // The default, beside it on the same server: no query timeout.
        const unbounded = yield* Layer.build(harborOn(PgUserStore.layer({ url: Redacted.make(server.url) })))
        yield* Effect.provide(UserHarbor.pipe(Effect.flatMap((h) => h.validateSession(session.token))), unbounded)
        const operations = {
          check: UserHarbor.pipe(Effect.flatMap((h) => h.validateSession(session.token))),
          login: UserHarbor.pipe(Effect.flatMap((h) => h.login({ username: alice.username, password }))),
          register: (name: string) => UserHarbor.pipe(Effect.flatMap((h) => h.register(newcomer(name))))
        }

        yield* server.pause
        const waiting = yield* Effect.fork(Effect.provide(timed(operations.check), unbounded))
        const frozen = {
          check: yield* run(timed(operations.check)),
          login: yield* run(timed(operations.login)),
          register: yield* run(timed(operations.register("Carol")))
        }
        const frozenMs = Object.values(frozen).reduce((sum, { ms }) => sum + ms, 0)
        yield* server.resume
        const withoutTimeout = yield* Fiber.join(waiting)
        console.log(`frozen (queryTimeout ${timeoutMs} ms): ${JSON.stringify(frozen)}`)
        console.log(`frozen ${frozenMs} ms, without queryTimeout: ${JSON.stringify(withoutTimeout)}`)
        // Without the option, the check waited for the whole freeze, then succeeded.
        expect(withoutTimeout.outcome).toBe("ok")
        expect(withoutTimeout.ms).toBeGreaterThanOrEqual(frozenMs)
        for (const { ms, outcome } of Object.values(frozen)) {
          expect(outcome).toBe("StoreError")
          expect(ms).toBeGreaterThanOrEqual(timeoutMs - 50)
          expect(ms).toBeLessThan(boundMs)
        }

        // The same layer, without rebuilding anything: the pool opens new connections.
        const after = {
          check: yield* run(timed(operations.check)),
          login: yield* run(timed(operations.login)),
          register: yield* run(timed(operations.register("Dave")))
        }
        console.log(`after the freeze: ${JSON.stringify(after)}`)
        for (const { outcome } of Object.values(after)) expect(outcome).toBe("ok")
        expect(yield* run(halfWritten)).toBe(0)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "a transaction abandoned mid-way is rolled back: its connection is closed, never lent out again",
    () =>
      Effect.gen(function*() {
        // One connection, so the statements after the freeze would run on the abandoned one if it were reused.
        const { context, server } = yield* frozenLater({ maxConnections: 1 })
        const sql = Context.get(context, SqlClient.SqlClient)
        yield* sql`CREATE TABLE probe (id INT PRIMARY KEY)`

        const abandoned = yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO probe VALUES (1)`
          yield* server.pause
          yield* sql`INSERT INTO probe VALUES (2)`
        })).pipe(Effect.exit)
        yield* server.resume
        expect(abandoned._tag).toBe("Failure")

        // Another transaction commits on the pool; it must not carry the abandoned one's rows with it.
        yield* sql.withTransaction(sql`INSERT INTO probe VALUES (3)`)
        const rows = yield* sql<{ readonly id: number }>`SELECT id FROM probe ORDER BY id`
        expect(rows.map((row) => row.id)).toEqual([3])
        const open = yield* sql<{ readonly n: number }>`
          SELECT count(*)::int AS n FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'`
        expect(open[0]?.n).toBe(0)
        // The store goes on too.
        yield* Effect.provide(loggedIn(bob), context)
      }).pipe(Effect.scoped),
    60_000
  )
})
