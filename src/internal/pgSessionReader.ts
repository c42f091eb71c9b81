import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import pg, { type Pool } from "pg"
import { StoreError } from "../Errors.js"
import type { UserStore } from "../UserStore.js"
import { firstSession, outsideTransactions, sessionQuery } from "./sessionRow.js"

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
 * `PgClient.layer` built on a pool we hold: the same pool settings, the same bounded connection check (`SELECT 1`
 * within `connectTimeout`, failing with a `SqlError`), and the pool in the output for the fast path.
 */
export const layerClient = (
  options: PoolOptions
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient | SessionPool, SqlError> =>
  Layer.scopedContext(Effect.gen(function*() {
    const pool = yield* Effect.acquireRelease(
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
    )
    yield* Effect.tryPromise({
      try: () => pool.query("SELECT 1"),
      catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" })
    }).pipe(Effect.timeoutFail({
      duration: options.connectTimeout,
      onTimeout: () =>
        new SqlError({ cause: new ConnectTimeout("Connection timed out"), message: "PgClient: Connection timed out" })
    }))
    const client = yield* PgClient.fromPool({ acquire: Effect.succeed(pool), applicationName: options.applicationName })
    return Context.make(PgClient.PgClient, client).pipe(
      Context.add(SqlClient.SqlClient, client),
      Context.add(SessionPool, pool)
    )
  })).pipe(Layer.provide(Reactivity.layer))

const text = sessionQuery("$1")
// A named statement: each connection parses and plans it once, then only binds and executes it. PostgreSQL shares
// the machine's cores with the app as often as not, and parsing a join per request is most of its work here.
const name = "userharbor_find_session_v2"

/** The PostgreSQL fast path: the session look-up straight on the pool, outside transactions. */
export const make = (pool: Pool, fallback: UserStore["Type"]["findSession"]): UserStore["Type"]["findSession"] =>
  outsideTransactions(fallback, (tokenHash) =>
    // `pg`'s callback form: no promise to allocate and chain per request, and the fiber resumes with the answer.
    Effect.async((resume) => {
      pool.query({ name, text, values: [tokenHash] }, (cause, result) => {
        resume(
          cause !== undefined && cause !== null
            ? Effect.fail(new StoreError({ operation: "findSession", cause }))
            : firstSession(result.rows, tokenHash)
        )
      })
    }))
