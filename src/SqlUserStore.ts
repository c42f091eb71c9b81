/**
 * A `UserStore`, with the other ports of the same backend (`PortTags`: `CounterStore`, `OutboxStore`, `FactorStore`,
 * `SessionDeviceStore`, `SecurityEventStore`, `EmailChangeStore`, `AccountAdminStore`), on `@effect/sql`: one implementation for SQLite (`@effect/sql-sqlite-node`), PostgreSQL
 * (`@effect/sql-pg`) and MariaDB/MySQL (`@effect/sql-mysql2`). It needs only a `SqlClient`, so it shares the app's
 * client, pool and transactions: inside the app's `sql.withTransaction`, every store call (of every port) joins
 * that transaction.
 *
 * - Uniqueness is the database's constraint; a violation is recognised by the driver's error code and becomes
 *   `UsernameTaken` or `EmailTaken`.
 * - `consumeToken` is one `DELETE … RETURNING` (PostgreSQL, SQLite, MariaDB); on MySQL, which lacks it, a locking
 *   read and a delete checked by its affected rows, in one transaction.
 * - `claimEmails` claims with one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING` on
 *   PostgreSQL, one `UPDATE … RETURNING` on SQLite (a single writer makes it atomic), and on MariaDB/MySQL (no
 *   `UPDATE … RETURNING`) a `SELECT … FOR UPDATE SKIP LOCKED` and an `UPDATE` in one transaction: concurrent
 *   claimers skip each other's rows instead of waiting for them or taking them twice.
 * - `deleteUser` relies on `ON DELETE CASCADE`; on SQLite, `make` turns on `PRAGMA foreign_keys` (the
 *   `@effect/sql-sqlite-node` client has a single connection, so that covers every statement).
 * - Every `SqlError` becomes a `StoreError` naming the store method, never the SQL or its parameters.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Random from "effect/Random"
import { CounterStore, type CounterStoreService } from "./CounterStore.js"
import { EmailTaken, StoreError, type TokenPurpose, UsernameTaken } from "./Errors.js"
import * as Ports from "./internal/ports.js"
import { firstSession, sessionQuery } from "./internal/sessionRow.js"
import * as SqlAccountAdmin from "./internal/sqlAccountAdmin.js"
import * as SqlEmailChanges from "./internal/sqlEmailChanges.js"
import * as SqlErrors from "./internal/sqlErrors.js"
import * as SqlEvents from "./internal/sqlEvents.js"
import * as SqlFactors from "./internal/sqlFactors.js"
import * as Rows from "./internal/sqlRows.js"
import * as SqlSessionDevices from "./internal/sqlSessionDevices.js"
import * as SqlShared from "./internal/sqlShared.js"
import { inTransaction } from "./internal/sqlTransaction.js"
import { type OutboxRecord, OutboxStore, type OutboxStoreService } from "./OutboxStore.js"
import * as SqlMigrations from "./SqlMigrations.js"
import type { UserId } from "./User.js"
import { type SessionRecord, type TokenHash, type TokenRecord, type UserRecord, UserStore } from "./UserStore.js"

// RETURNING gives rows in no particular order; the port promises oldest due first.
const dueOrder = (a: OutboxRecord, b: OutboxRecord) =>
  a.nextAttemptAt - b.nextAttemptAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/**
 * Whether a `SqlError` is a unique-constraint violation, by the driver's error code (never the message text):
 * better-sqlite3, pg (`23505`) and mysql2 (`ER_DUP_ENTRY`, MySQL and MariaDB).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isUniqueViolation = (error: SqlError): boolean => SqlErrors.classify(error) === "UniqueViolation"

// What the `VARCHAR(64)` ASCII id columns can hold: printable ASCII, 1 to 64 characters.
const storableId = /^[\x21-\x7e]{1,64}$/
const isStorableId = (id: string): boolean => storableId.test(id)

const storeError = SqlErrors.failStore

const isTransientCause = <E>(cause: Cause.Cause<E>): boolean =>
  Option.exists(Cause.failureOption(cause), SqlErrors.isTransient) ||
  Option.exists(Cause.dieOption(cause), SqlErrors.isTransient)

// The pauses between attempts run on a real clock of their own: on the fiber's `Clock` a test's `TestClock` would
// never let the pause end, and the retried call would hang until the test times out. `self` keeps the fiber's
// clock (the store's timestamps come from it).
const realClock = Clock.make()
const transientRetries = 5
const pause = (attempt: number): Effect.Effect<void> =>
  Effect.flatMap(
    Random.nextRange(0.8, 1.2),
    (jitter) => Effect.withClock(Effect.sleep(Duration.millis(5 * 2 ** attempt * jitter)), realClock)
  )

/**
 * Runs `self` again (up to 5 more times, with a short jittered exponential pause) when the database rolled it back
 * for a deadlock or a serialization failure, but only outside a transaction: inside one, the statement's rollback
 * took the caller's earlier work with it, so only the outermost transaction can start over.
 */
const retryTransient = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const attempt = (n: number): Effect.Effect<A, E, R> =>
    Effect.catchSomeCause(
      self,
      (cause) =>
        n < transientRetries && isTransientCause(cause)
          ? Option.some(Effect.zipRight(pause(n), attempt(n + 1)))
          : Option.none()
    )
  return Effect.contextWithEffect((context: Context.Context<never>) => inTransaction(context) ? self : attempt(0))
}

/**
 * The tags of the ports a SQL store provides (what its layers output, besides the client).
 *
 * @since 0.3.0
 * @category models
 */
export type PortTags = Ports.Tags

/**
 * The ports of one SQL store, as `make` builds them.
 *
 * @since 0.3.0
 * @category models
 */
export type Stores = Ports.Ports

/**
 * Builds the store's ports on the `SqlClient` in context, without running migrations: they share the client,
 * so counter and outbox writes join the `UserStore`'s `withTransaction`. On SQLite it enables foreign keys;
 * on MySQL-dialect servers it checks whether the server is MariaDB (which has `DELETE … RETURNING`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Stores, StoreError, SqlClient.SqlClient> = Effect.gen(function*() {
  // Our column names must survive an app's `transformQueryNames`/`transformResultNames`.
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()

  const detect: Effect.Effect<boolean, SqlError> = sql.onDialectOrElse({
    sqlite: () => Effect.as(sql`PRAGMA foreign_keys = ON`, true),
    mysql: () =>
      Effect.map(
        sql<{ readonly version: unknown }>`SELECT VERSION() AS version`,
        (rows) => rows.some((row) => Predicate.isString(row.version) && row.version.includes("MariaDB"))
      ),
    orElse: () => Effect.succeed(true)
  })
  const hasDeleteReturning = yield* Effect.catchTag(detect, "SqlError", storeError("connect"))

  const isMysql = sql.onDialectOrElse({ mysql: () => true, orElse: () => false })

  /** The `sql.withTransaction` of STYLE.md section 6, with `SqlError`s (also at COMMIT) as `StoreError`s. */
  const transaction = (operation: string) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
    // COMMIT (and a ROLLBACK after a failed BEGIN) runs under `orDie`: its SqlError arrives as a defect.
    SqlErrors.orStoreError(operation)(retryTransient(sql.withTransaction(self)))

  const sessionLookup = sessionQuery(sql.onDialectOrElse({ pg: () => "$1", orElse: () => "?" }))

  const userColumns = sql.literal(Rows.userColumns("u."))

  const findUser = (operation: string, where: Statement.Fragment) =>
    sql`SELECT ${userColumns} FROM userharbor_users u WHERE ${where}`.pipe(
      Effect.flatMap(Rows.decodeUsers),
      Effect.map((rows) => Option.fromNullable(rows[0])),
      Effect.catchTag("SqlError", storeError(operation))
    )

  const affected = (operation: string, statement: Effect.Effect<unknown, SqlError>) =>
    statement.pipe(Effect.flatMap(Rows.decodeAffected), Effect.catchTag("SqlError", storeError(operation)))

  // Which key collided: read after the savepoint rolled back, with a locking read on MySQL, whose
  // REPEATABLE READ snapshot could predate the row we collided with.
  const whichTaken = (user: UserRecord) =>
    sql`SELECT username_key FROM userharbor_users
      WHERE username_key = ${user.usernameKey} OR email_key = ${user.emailKey}
      ${isMysql ? sql`LOCK IN SHARE MODE` : sql``}`.pipe(
      Effect.flatMap(Rows.decodeKeys),
      Effect.catchTag("SqlError", storeError("insertUser")),
      Effect.flatMap((rows): Effect.Effect<never, UsernameTaken | EmailTaken | StoreError> =>
        rows.some((row) => row.usernameKey === user.usernameKey)
          ? Effect.fail(new UsernameTaken())
          : rows.length > 0
          ? Effect.fail(new EmailTaken())
          // The colliding row is gone already (or the id collided): nothing we can name, so a store failure.
          : Effect.fail(new StoreError({ operation: "insertUser" }))
      )
    )

  const insertUser = (user: UserRecord) =>
    // Its own savepoint, so that on PostgreSQL a violation leaves the caller's transaction usable.
    sql.withTransaction(
      sql`INSERT INTO userharbor_users ${
        sql.insert({
          id: user.id,
          username: user.username,
          username_key: user.usernameKey,
          email: user.email,
          email_key: user.emailKey,
          password_hash: user.passwordHash,
          password_version: user.passwordVersion,
          verified: user.verified ? 1 : 0,
          created_at: user.createdAt
        })
      }`
    ).pipe(
      Effect.catchTag("SqlError", (error) =>
        isUniqueViolation(error) ? whichTaken(user) : storeError("insertUser")(error)),
      SqlErrors.orStoreError("insertUser"),
      Effect.asVoid
    )

  const tokenColumns = sql.literal(Rows.tokenColumns())

  const shared: SqlShared.Deps = { sql, hasDeleteReturning, transaction }
  const consume = SqlShared.consumer(shared)
  const purge = SqlShared.purgeExpiredRows(sql)

  const consumeToken = (purpose: TokenPurpose, tokenHash: TokenHash) =>
    consume(
      "consumeToken",
      "userharbor_tokens",
      Rows.tokenColumns(),
      sql`token_hash = ${tokenHash} AND purpose = ${purpose}`,
      Rows.decodeTokens
    )

  const issueToken = (token: TokenRecord) => {
    const values = sql.insert({
      token_hash: token.tokenHash,
      purpose: token.purpose,
      user_id: token.userId,
      created_at: token.createdAt,
      expires_at: token.expiresAt
    })
    // One statement replaces the user's live token of this purpose, so two concurrent issues cannot collide.
    return sql.onDialectOrElse({
      mysql: () =>
        sql`INSERT INTO userharbor_tokens ${values} ON DUPLICATE KEY UPDATE token_hash = VALUES(token_hash),
          created_at = VALUES(created_at), expires_at = VALUES(expires_at)`,
      orElse: () =>
        sql`INSERT INTO userharbor_tokens ${values} ON CONFLICT (user_id, purpose) DO UPDATE SET
          token_hash = excluded.token_hash, created_at = excluded.created_at, expires_at = excluded.expires_at`
    }).pipe(retryTransient, Effect.asVoid, Effect.catchTag("SqlError", storeError("issueToken")))
  }

  // PostgreSQL types an untyped parameter in a SELECT list as text, which a BIGINT column refuses.
  const bigint = (n: number) => sql.onDialectOrElse({ pg: () => sql`CAST(${n} AS BIGINT)`, orElse: () => sql`${n}` })

  const counterColumns = sql.literal(Rows.counterColumns())

  // One atomic upsert; a window that began at or before `resetBefore` restarts at 1. MySQL has no `RETURNING` on
  // an upsert, so it reads its own row back in the same transaction, where the upsert's row lock still holds.
  const incrementCounter: CounterStoreService["incrementCounter"] = ({ key, now, windowMs }) => {
    const resetBefore = now - windowMs
    const values = sql.insert({ counter_key: key, hits: 1, window_start: now, updated_at: now })
    const upsert: Effect.Effect<ReadonlyArray<unknown>, SqlError | StoreError> = sql.onDialectOrElse({
      mysql: () =>
        transaction("incrementCounter")(Effect.gen(function*() {
          // Assignments run left to right: `hits` must be computed from the old `window_start`.
          yield* sql`INSERT INTO userharbor_counters ${values} ON DUPLICATE KEY UPDATE
            hits = IF(window_start <= ${resetBefore}, 1, hits + 1),
            window_start = IF(window_start <= ${resetBefore}, ${now}, window_start),
            updated_at = ${now}`
          return yield* sql`SELECT ${counterColumns} FROM userharbor_counters
            WHERE counter_key = ${key}`
        })),
      orElse: () =>
        sql`INSERT INTO userharbor_counters ${values} ON CONFLICT (counter_key) DO UPDATE SET
          hits = CASE WHEN userharbor_counters.window_start <= ${resetBefore} THEN 1
            ELSE userharbor_counters.hits + 1 END,
          window_start = CASE WHEN userharbor_counters.window_start <= ${resetBefore} THEN ${bigint(now)}
            ELSE userharbor_counters.window_start END,
          updated_at = ${now}
          RETURNING ${counterColumns}`
    })
    return upsert.pipe(
      Effect.catchTag("SqlError", storeError("incrementCounter")),
      Effect.flatMap(Rows.decodeCounters),
      Effect.flatMap((rows) =>
        rows[0] === undefined
          ? Effect.fail(new StoreError({ operation: "incrementCounter" }))
          : Effect.succeed(rows[0].count)
      )
    )
  }

  const sessionColumns = sql.literal(`token_hash, ${Rows.sessionColumns()}`)
  // The port orders sessions by `createdAt`, then `id` as JavaScript compares strings: bytewise. MySQL's ids are
  // `ascii_bin` and SQLite compares bytes, but PostgreSQL would use the database's locale.
  const sessionOrderId = sql.onDialectOrElse({ pg: () => sql`id COLLATE "C"`, orElse: () => sql`id` })

  // One statement: everything but the `keep` newest of the user's sessions. MySQL and MariaDB refuse `LIMIT` in an
  // `IN` sub-select and a sub-select on the table being deleted from, unless it is wrapped in a derived table (which
  // `LIMIT` keeps from being merged back); `OFFSET` needs a `LIMIT` there and on SQLite (-1 is "no limit").
  const trimSessions = (userId: UserId, keep: number) => {
    const newestFirst = sql`SELECT token_hash FROM userharbor_sessions WHERE user_id = ${userId}
      ORDER BY created_at DESC, ${sessionOrderId} DESC`
    const doomed = sql.onDialectOrElse({
      mysql: () => sql`SELECT token_hash FROM (${newestFirst} LIMIT 18446744073709551615 OFFSET ${keep}) AS doomed`,
      sqlite: () => sql`${newestFirst} LIMIT -1 OFFSET ${keep}`,
      orElse: () => sql`${newestFirst} OFFSET ${keep}`
    })
    return sql`DELETE FROM userharbor_sessions WHERE user_id = ${userId} AND token_hash IN (${doomed})`.raw
  }

  const outboxColumns = sql.literal(Rows.outboxColumns())

  const claimEmails: OutboxStoreService["claimEmails"] = ({ leaseMs, limit, now, workerId }) => {
    if (limit <= 0) return Effect.succeed([])
    const due = sql`SELECT ${outboxColumns} FROM userharbor_outbox
      WHERE next_attempt_at <= ${now} AND lease_until <= ${now}
      ORDER BY next_attempt_at, id LIMIT ${limit}`
    const claim = sql`UPDATE userharbor_outbox SET claimed_by = ${workerId}, lease_until = ${now + leaseMs}`
    const claimed: Effect.Effect<ReadonlyArray<OutboxRecord>, SqlError | StoreError> = sql.onDialectOrElse({
      pg: () =>
        Effect.flatMap(
          sql`${claim} WHERE id IN (SELECT id FROM (${due} FOR UPDATE SKIP LOCKED) AS due)
            RETURNING ${outboxColumns}`,
          Rows.decodeOutbox
        ),
      mysql: () =>
        transaction("claimEmails")(Effect.gen(function*() {
          const rows = yield* Effect.flatMap(sql`${due} FOR UPDATE SKIP LOCKED`, Rows.decodeOutbox)
          if (rows.length > 0) yield* sql`${claim} WHERE ${sql.in("id", rows.map((row) => row.id))}`
          return rows
        })),
      // SQLite has one writer, so the sub-select and the update cannot interleave with another claim.
      orElse: () =>
        Effect.flatMap(
          sql`${claim} WHERE id IN (SELECT id FROM (${due})) RETURNING ${outboxColumns}`,
          Rows.decodeOutbox
        )
    })
    return claimed.pipe(
      Effect.map((rows) => [...rows].sort(dueOrder)),
      Effect.catchTag("SqlError", storeError("claimEmails"))
    )
  }

  const held = (id: string, workerId: string) => sql`id = ${id} AND claimed_by = ${workerId}`

  const store = UserStore.of({
    insertUser,
    findUserById: (id) => findUser("findUserById", sql`u.id = ${id}`),
    findUserByUsername: (key) => findUser("findUserByUsername", sql`u.username_key = ${key}`),
    findUserByEmail: (key) => findUser("findUserByEmail", sql`u.email_key = ${key}`),
    markVerified: (id) =>
      sql`UPDATE userharbor_users SET verified = TRUE WHERE id = ${id}`.pipe(
        Effect.asVoid,
        Effect.catchTag("SqlError", storeError("markVerified"))
      ),
    updatePassword: ({ expectedVersion, passwordHash, rehash, userId }) =>
      affected(
        "updatePassword",
        sql`UPDATE userharbor_users SET password_hash = ${passwordHash},
          password_version = password_version + ${rehash === true ? 0 : 1}
          WHERE id = ${userId}${
          expectedVersion === undefined ? sql`` : sql` AND password_version = ${expectedVersion}`
        }`.raw
      ).pipe(Effect.map((n) => n > 0)),
    deleteUser: (id) =>
      affected("deleteUser", sql`DELETE FROM userharbor_users WHERE id = ${id}`.raw).pipe(Effect.map((n) => n > 0)),

    issueToken,
    findToken: (purpose, tokenHash) =>
      sql`SELECT ${tokenColumns} FROM userharbor_tokens WHERE token_hash = ${tokenHash} AND purpose = ${purpose}`.pipe(
        Effect.flatMap(Rows.decodeTokens),
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.catchTag("SqlError", storeError("findToken"))
      ),
    consumeToken,
    deleteUserTokens: (userId, purpose) =>
      sql`DELETE FROM userharbor_tokens WHERE user_id = ${userId} AND purpose = ${purpose}`.pipe(
        Effect.asVoid,
        Effect.catchTag("SqlError", storeError("deleteUserTokens"))
      ),

    insertSession: (session: SessionRecord) =>
      sql`INSERT INTO userharbor_sessions ${
        sql.insert({
          token_hash: session.tokenHash,
          id: session.id,
          user_id: session.userId,
          created_at: session.createdAt,
          expires_at: session.expiresAt,
          last_used_at: session.lastUsedAt
        })
      }`.pipe(Effect.asVoid, Effect.catchTag("SqlError", storeError("insertSession"))),
    // The drivers' fast paths run this same statement and decoder, outside transactions (internal/sessionRow.ts).
    // The token hash is a bind parameter; `unsafe` only because the text is shared with them.
    findSession: (tokenHash) =>
      sql.unsafe(sessionLookup, [tokenHash]).pipe(
        Effect.catchTag("SqlError", storeError("findSession")),
        Effect.flatMap((rows) => firstSession(rows, tokenHash))
      ),
    renewSession: ({ expiresAt, lastUsedAt, tokenHash }) =>
      sql`UPDATE userharbor_sessions SET expires_at = ${expiresAt}, last_used_at = ${lastUsedAt}
        WHERE token_hash = ${tokenHash}`.pipe(Effect.asVoid, Effect.catchTag("SqlError", storeError("renewSession"))),
    deleteSession: (tokenHash) =>
      affected("deleteSession", sql`DELETE FROM userharbor_sessions WHERE token_hash = ${tokenHash}`.raw).pipe(
        Effect.map((n) => n > 0)
      ),
    deleteUserSessions: (userId) =>
      affected("deleteUserSessions", sql`DELETE FROM userharbor_sessions WHERE user_id = ${userId}`.raw),

    purgeExpired: ({ limit, now }) =>
      Effect.gen(function*() {
        if (limit <= 0) return 0
        const sessions = yield* purge("purgeExpired", "userharbor_sessions", ["token_hash"], now, limit)
        if (sessions >= limit) return sessions
        const tokenKey = ["token_hash", "purpose"]
        return sessions + (yield* purge("purgeExpired", "userharbor_tokens", tokenKey, now, limit - sessions))
      }),

    // Oldest first through the (verified, created_at) index; MySQL has `DELETE … ORDER BY … LIMIT`, the others a
    // keyed sub-select. The cascade takes the users' sessions and tokens.
    purgeUnverifiedUsers: ({ createdBefore, limit }) =>
      affected(
        "purgeUnverifiedUsers",
        sql.onDialectOrElse({
          mysql: () =>
            sql`DELETE FROM userharbor_users WHERE verified = FALSE AND created_at <= ${createdBefore}
              ORDER BY created_at, id LIMIT ${Math.max(0, limit)}`.raw,
          orElse: () =>
            sql`DELETE FROM userharbor_users WHERE id IN (
              SELECT id FROM userharbor_users WHERE verified = FALSE AND created_at <= ${createdBefore}
              ORDER BY created_at, id LIMIT ${Math.max(0, limit)}) AND verified = FALSE`.raw
        })
      ),
    // One statement per unique key, so each locks only the row it names (an OR across two indexes can lock every
    // row InnoDB scans).
    deleteUnverifiedUsers: ({ createdBefore, emailKey, usernameKey }) =>
      Effect.gen(function*() {
        const stale = sql`verified = FALSE AND created_at <= ${createdBefore}`
        const byName = yield* sql`DELETE FROM userharbor_users WHERE username_key = ${usernameKey} AND ${stale}`.raw
        const byEmail = yield* sql`DELETE FROM userharbor_users WHERE email_key = ${emailKey} AND ${stale}`.raw
        return (yield* Rows.decodeAffected(byName)) + (yield* Rows.decodeAffected(byEmail))
      }).pipe(Effect.catchTag("SqlError", storeError("deleteUnverifiedUsers"))),

    withTransaction: transaction("withTransaction"),

    insertSessionIfPasswordVersion: (session, passwordVersion) =>
      // One statement: the row is inserted only if the version still matches when the insert runs.
      affected(
        "insertSessionIfPasswordVersion",
        sql`INSERT INTO userharbor_sessions (token_hash, id, user_id, created_at, expires_at, last_used_at)
          SELECT ${session.tokenHash}, ${session.id}, id, ${bigint(session.createdAt)}, ${bigint(session.expiresAt)},
            ${bigint(session.lastUsedAt)}
          FROM userharbor_users WHERE id = ${session.userId} AND password_version = ${passwordVersion}`.raw
      ).pipe(Effect.map((n) => n > 0)),

    // session management
    listUserSessions: (userId) =>
      sql`SELECT ${sessionColumns} FROM userharbor_sessions WHERE user_id = ${userId}
        ORDER BY created_at, ${sessionOrderId}`.pipe(
        Effect.flatMap(Rows.decodeSessions),
        Effect.catchTag("SqlError", storeError("listUserSessions"))
      ),
    // The id comes from the caller: one that no id column can hold (PostgreSQL refuses a NUL in text, MariaDB a
    // lone surrogate or any non-ASCII value against an ASCII column) is no session's, and never reaches the SQL.
    deleteUserSession: (userId, sessionId) =>
      isStorableId(sessionId)
        ? affected(
          "deleteUserSession",
          sql`DELETE FROM userharbor_sessions WHERE user_id = ${userId} AND id = ${sessionId}`.raw
        ).pipe(Effect.map((n) => n > 0))
        : Effect.succeed(false),
    deleteOtherUserSessions: (userId, keepTokenHash) =>
      affected(
        "deleteOtherUserSessions",
        sql`DELETE FROM userharbor_sessions WHERE user_id = ${userId} AND token_hash <> ${keepTokenHash}`.raw
      ),
    trimUserSessions: (userId, keep) => affected("trimUserSessions", trimSessions(userId, Math.max(0, keep)))
  })

  const counters = CounterStore.of({
    incrementCounter,
    getCounter: (key) =>
      sql`SELECT ${counterColumns} FROM userharbor_counters WHERE counter_key = ${key}`.pipe(
        Effect.flatMap(Rows.decodeCounters),
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.catchTag("SqlError", storeError("getCounter"))
      ),
    deleteCounter: (key) =>
      sql`DELETE FROM userharbor_counters WHERE counter_key = ${key}`.pipe(
        Effect.asVoid,
        Effect.catchTag("SqlError", storeError("deleteCounter"))
      ),
    releaseCounter: ({ key, since }) =>
      sql`UPDATE userharbor_counters SET hits = hits - 1
        WHERE counter_key = ${key} AND hits > 0 AND window_start <= ${since}`.pipe(
        Effect.asVoid,
        Effect.catchTag("SqlError", storeError("releaseCounter"))
      ),
    purgeCounters: ({ limit, olderThan }) =>
      limit <= 0 ? Effect.succeed(0) : affected(
        "purgeCounters",
        sql.onDialectOrElse({
          mysql: () => sql`DELETE FROM userharbor_counters WHERE updated_at <= ${olderThan} LIMIT ${limit}`.raw,
          orElse: () =>
            sql`DELETE FROM userharbor_counters WHERE counter_key IN (
              SELECT counter_key FROM userharbor_counters WHERE updated_at <= ${olderThan} LIMIT ${limit})`.raw
        })
      )
  })

  const outbox = OutboxStore.of({
    enqueueEmail: (email) =>
      sql`INSERT INTO userharbor_outbox ${
        sql.insert({
          id: email.id,
          payload: email.payload,
          created_at: email.createdAt,
          attempts: email.attempts,
          next_attempt_at: email.nextAttemptAt,
          claimed_by: null,
          lease_until: 0
        })
      }`.pipe(Effect.asVoid, Effect.catchTag("SqlError", storeError("enqueueEmail"))),
    claimEmails,
    completeEmail: ({ id, workerId }) =>
      affected("completeEmail", sql`DELETE FROM userharbor_outbox WHERE ${held(id, workerId)}`.raw).pipe(
        Effect.map((n) => n > 0)
      ),
    retryEmail: ({ attempts, id, nextAttemptAt, workerId }) =>
      affected(
        "retryEmail",
        sql`UPDATE userharbor_outbox SET attempts = ${attempts}, next_attempt_at = ${nextAttemptAt},
          claimed_by = NULL, lease_until = 0 WHERE ${held(id, workerId)}`.raw
      ).pipe(Effect.map((n) => n > 0)),
    dropEmail: ({ id, workerId }) =>
      affected("dropEmail", sql`DELETE FROM userharbor_outbox WHERE ${held(id, workerId)}`.raw).pipe(
        Effect.map((n) => n > 0)
      ),
    summarizeEmails: ({ now }) =>
      sql`SELECT COUNT(*) AS waiting,
          SUM(CASE WHEN next_attempt_at <= ${now} AND lease_until <= ${now} THEN 1 ELSE 0 END) AS due,
          SUM(CASE WHEN lease_until > ${now} THEN 1 ELSE 0 END) AS claimed,
          SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS failed,
          MIN(created_at) AS oldest
        FROM userharbor_outbox`.pipe(
        Effect.flatMap(Rows.decodeOutboxSummary),
        Effect.map(([row]) => ({
          waiting: row?.waiting ?? 0,
          due: row?.due ?? 0,
          claimed: row?.claimed ?? 0,
          failed: row?.failed ?? 0,
          oldestCreatedAt: Option.fromNullable(row?.oldest)
        })),
        Effect.catchTag("SqlError", storeError("summarizeEmails"))
      ),
    retryEmailsNow: ({ id, now }) =>
      affected(
        "retryEmailsNow",
        sql`UPDATE userharbor_outbox SET next_attempt_at = ${now}
          WHERE next_attempt_at > ${now} AND lease_until <= ${now}${id === undefined ? sql`` : sql` AND id = ${id}`}`
          .raw
      )
  })

  return {
    store,
    counters,
    outbox,
    factors: SqlFactors.make(shared),
    devices: SqlSessionDevices.make(shared),
    events: SqlEvents.make(shared),
    emailChanges: SqlEmailChanges.make(shared),
    admin: SqlAccountAdmin.make(shared)
  }
})

/**
 * The store (its ports) without migrations, for an app that runs `SqlMigrations` itself.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithoutMigrations: Layer.Layer<PortTags, StoreError, SqlClient.SqlClient> = Layer.effectContext(
  Effect.map(make, Ports.context)
)

/**
 * The store (its `PortTags`), after running the pending `SqlMigrations` when the
 * layer is built (a no-op when the schema is current).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<PortTags, StoreError, SqlClient.SqlClient> = Layer.effectContext(
  Effect.map(Effect.zipRight(SqlMigrations.run, make), Ports.context)
)
