/**
 * The PostgreSQL client of `PgUserStore`, on a `pg` pool we hold, so the session fast path (`pgSessionReader.ts`)
 * runs on the client's own connections. `@effect/sql-pg` 0.53 keeps the pool that `PgClient.make`/`layer` create
 * out of reach (it is captured in the client's closures, not exposed), and offers `layerFromPool` for a pool the
 * app holds: the client is built by that, with no driver code copied. What remains of `PgClient.make` here is the
 * smallest part that `layerFromPool` leaves to the pool's owner: creating the pool, ending it, and `make`'s bounded
 * connection check.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import pg, { type Pool, type PoolClient } from "pg"
import type { StoreError } from "../Errors.js"
import { connectFailure, parseUrl } from "./connectFailure.js"
import { wholeMillis } from "./durations.js"

// With the code Node gives a socket timeout, so the start-up failure can say what happened.
class ConnectTimeout extends Error {
  readonly code = "ETIMEDOUT"
}

/** The `pg` pool under the client, so the session fast path runs on the same connections. */
export class SessionPool extends Context.Tag("userharbor/internal/SessionPool")<SessionPool, Pool>() {}

export interface PoolOptions {
  readonly url: Redacted.Redacted
  readonly maxConnections: number
  readonly connectTimeout: Duration.DurationInput
  /** `pg`'s client-side `query_timeout`; `undefined` (and zero or infinite) sets none. */
  readonly queryTimeout?: Duration.DurationInput | undefined
  readonly applicationName: string
}

// Whole milliseconds for `pg`, or `undefined` for none (`setTimeout` would fire an infinite delay at once).
const queryTimeoutMillis = (input: Duration.DurationInput | undefined): number | undefined => {
  if (input === undefined) return undefined
  const duration = Duration.decode(input)
  const millis = Duration.isFinite(duration) ? wholeMillis(duration) : 0
  return millis > 0 ? millis : undefined
}

/**
 * Whether `client` still has a query on the wire: one that timed out, whose answer the server still owes. `pg`
 * keeps it in `_activeQuery` until the answer (after a server error it is cleared at once, before the caller hears
 * of it, so such a connection is not counted). The field is `pg`'s own, not in its types, read as `pg-pool` reads
 * `_queryable` and `_ending`; a `pg` without it falls back on `readyForQuery`, which is also `false` for the moment
 * between a server error and the server's next message: such connections are then closed too (a reconnection).
 */
const queryOnTheWire = (client: PoolClient): boolean =>
  Predicate.hasProperty(client, "_activeQuery")
    ? Predicate.isNotNullable(client._activeQuery)
    : Predicate.hasProperty(client, "readyForQuery") && client.readyForQuery === false

/**
 * Closes a connection that comes back to the pool with a query still on it, instead of lending it again. With
 * `query_timeout`, `pg` answers the caller with an error but leaves the query on the connection until the server
 * answers, and `@effect/sql-pg` then releases the connection without an error, so the pool would lend it again.
 * Behind that query wait the statements the caller gave up on, above all a transaction's `ROLLBACK`, which `pg`
 * drops from the queue when it times out in turn: once the server answered, the connection would sit in the
 * abandoned transaction, and the next borrower's statements and `COMMIT` would run in it, committing the abandoned
 * rows with its own (test/features/PgQueryTimeout.test.ts). Closed, the server rolls the transaction back.
 * `client.end()` marks the client as ending at once, and `pg-pool` checks that right after this event and drops
 * it; on a query it destroys the socket, so it does not wait for the server either.
 */
const closeBusyOnRelease = (pool: Pool): void => {
  pool.on("release", (error, client) => {
    if (Predicate.isNullable(error) && queryOnTheWire(client)) client.end().catch(() => {})
  })
}

/**
 * The pool, ended with the scope, after the connection check of `PgClient.make` (`SELECT 1` within
 * `connectTimeout`, failing with a `SqlError`), which `PgClient.fromPool` leaves to the pool's owner.
 */
const acquirePool = (options: PoolOptions): Effect.Effect<Pool, SqlError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const queryTimeout = queryTimeoutMillis(options.queryTimeout)
      const pool = new pg.Pool({
        connectionString: Redacted.value(options.url),
        max: options.maxConnections,
        connectionTimeoutMillis: Duration.toMillis(options.connectTimeout),
        query_timeout: queryTimeout,
        application_name: options.applicationName
      })
      if (queryTimeout !== undefined) closeBusyOnRelease(pool)
      // An idle connection's error is reported on the pool; the next query on it fails and is handled there.
      pool.on("error", () => {})
      return pool
    }),
    (pool) => Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000))
  ).pipe(Effect.tap((pool) =>
    Effect.tryPromise({
      try: () => pool.query("SELECT 1"),
      catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" })
    }).pipe(Effect.timeoutFail({
      duration: options.connectTimeout,
      onTimeout: () =>
        new SqlError({ cause: new ConnectTimeout("Connection timed out"), message: "PgClient: Connection timed out" })
    }))
  ))

/** `PgClient.layerFromPool` on our pool, with the pool in the output for the fast path. */
export const layerClient = (
  options: PoolOptions
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient | SessionPool, SqlError> =>
  Layer.unwrapScoped(Effect.map(acquirePool(options), (pool) =>
    Layer.merge(
      PgClient.layerFromPool({ acquire: Effect.succeed(pool), applicationName: options.applicationName }),
      Layer.succeed(SessionPool, pool)
    )))

/**
 * `layerClient` with the URL checked first (`pg` reads a malformed one as some host name and fails with a
 * misleading error) and a failure to connect as a `StoreError` naming `setting`, what the user sets.
 */
export const layerNamed = (
  options: PoolOptions,
  setting: string
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient | SessionPool, StoreError> =>
  Layer.unwrapEffect(Effect.map(
    parseUrl(options.url, setting),
    (url) => Layer.mapError(layerClient(options), connectFailure(url, setting))
  ))
