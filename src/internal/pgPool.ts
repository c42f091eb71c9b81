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
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import pg, { type Pool } from "pg"
import type { StoreError } from "../Errors.js"
import { connectFailure, parseUrl } from "./connectFailure.js"

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
  readonly applicationName: string
}

/**
 * The pool, ended with the scope, after the connection check of `PgClient.make` (`SELECT 1` within
 * `connectTimeout`, failing with a `SqlError`), which `PgClient.fromPool` leaves to the pool's owner.
 */
const acquirePool = (options: PoolOptions): Effect.Effect<Pool, SqlError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const pool = new pg.Pool({
        connectionString: Redacted.value(options.url),
        max: options.maxConnections,
        connectionTimeoutMillis: Duration.toMillis(options.connectTimeout),
        application_name: options.applicationName
      })
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
