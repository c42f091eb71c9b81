/**
 * `SqlUserStore`'s `EmailChangeStore`: the statements and rows of migration 0008, on the client and transaction of
 * the store's other ports. The move of an account is one `UPDATE` of `userharbor_users` in a savepoint of its own,
 * so the unique key on `email_key` decides a race and a violation leaves the caller's transaction usable.
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { EmailChangeStore, type EmailChangeStoreService, type PendingEmailChange } from "../EmailChangeStore.js"
import { EmailTaken, type StoreError } from "../Errors.js"
import { UserId } from "../User.js"
import { EmailKey, TokenHash } from "../UserStore.js"
import * as SqlErrors from "./sqlErrors.js"
import { decodeAffected, Integer } from "./sqlRows.js"
import { consumer, type Deps, purgeExpiredRows } from "./sqlShared.js"

const column = <S extends Schema.Schema.Any>(schema: S, name: string) =>
  Schema.propertySignature(schema).pipe(Schema.fromKey(name))

const ChangeRow = Schema.Struct({
  tokenHash: column(TokenHash, "token_hash"),
  userId: column(UserId, "user_id"),
  newEmail: column(Schema.String, "new_email"),
  newEmailKey: column(EmailKey, "new_email_key"),
  keepSession: column(TokenHash, "keep_session"),
  passwordVersion: column(Integer, "password_version"),
  createdAt: column(Integer, "created_at"),
  expiresAt: column(Integer, "expires_at")
})
const changeColumns =
  "token_hash, user_id, new_email, new_email_key, keep_session, password_version, created_at, expires_at"

const RevertRow = Schema.Struct({
  tokenHash: column(TokenHash, "token_hash"),
  userId: column(UserId, "user_id"),
  oldEmail: column(Schema.String, "old_email"),
  oldEmailKey: column(EmailKey, "old_email_key"),
  createdAt: column(Integer, "created_at"),
  expiresAt: column(Integer, "expires_at")
})
const revertColumns = "token_hash, user_id, old_email, old_email_key, created_at, expires_at"

// A row the database returned in an impossible shape is a bug or a corrupt database: a defect.
const decodeRows = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknown(Schema.Array(schema))
  return (rows: unknown) => Effect.orDie(decode(rows))
}
const decodeChanges = decodeRows(ChangeRow)
const decodeReverts = decodeRows(RevertRow)

export const make = (deps: Deps): EmailChangeStoreService => {
  const { sql, transaction } = deps
  const storeError = SqlErrors.failStore
  const affected = (operation: string, statement: Effect.Effect<unknown, SqlError>) =>
    statement.pipe(Effect.flatMap(decodeAffected), Effect.catchTag("SqlError", storeError(operation)))
  const consume = consumer(deps)
  const purge = purgeExpiredRows(sql)

  const putPendingChange = (change: PendingEmailChange) => {
    const values = sql.insert({
      user_id: change.userId,
      token_hash: change.tokenHash,
      new_email: change.newEmail,
      new_email_key: change.newEmailKey,
      keep_session: change.keepSession,
      password_version: change.passwordVersion,
      created_at: change.createdAt,
      expires_at: change.expiresAt
    })
    // One statement replaces the user's pending change, so two concurrent requests cannot leave two.
    return sql.onDialectOrElse({
      mysql: () =>
        sql`INSERT INTO userharbor_email_changes ${values} ON DUPLICATE KEY UPDATE token_hash = VALUES(token_hash),
          new_email = VALUES(new_email), new_email_key = VALUES(new_email_key),
          keep_session = VALUES(keep_session), password_version = VALUES(password_version),
          created_at = VALUES(created_at), expires_at = VALUES(expires_at)`,
      orElse: () =>
        sql`INSERT INTO userharbor_email_changes ${values} ON CONFLICT (user_id) DO UPDATE SET
          token_hash = excluded.token_hash, new_email = excluded.new_email, new_email_key = excluded.new_email_key,
          keep_session = excluded.keep_session, password_version = excluded.password_version,
          created_at = excluded.created_at, expires_at = excluded.expires_at`
    }).pipe(Effect.asVoid, Effect.catchTag("SqlError", storeError("putPendingChange")))
  }

  return EmailChangeStore.of({
    putPendingChange,
    findPendingChange: (userId) =>
      sql`SELECT ${sql.literal(changeColumns)} FROM userharbor_email_changes WHERE user_id = ${userId}`.pipe(
        Effect.flatMap(decodeChanges),
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.catchTag("SqlError", storeError("findPendingChange"))
      ),
    consumePendingChange: (tokenHash) =>
      consume(
        "consumePendingChange",
        "userharbor_email_changes",
        changeColumns,
        sql`token_hash = ${tokenHash}`,
        decodeChanges
      ),
    deletePendingChange: (userId) =>
      affected("deletePendingChange", sql`DELETE FROM userharbor_email_changes WHERE user_id = ${userId}`.raw).pipe(
        Effect.map((n) => n > 0)
      ),

    moveEmail: ({ email, emailKey, expectedPasswordVersion, userId }) =>
      // Its own savepoint inside a transaction, so that on PostgreSQL a violation leaves the caller's transaction
      // usable; outside one, a transaction of its own that a deadlock restarts.
      transaction("moveEmail")(
        sql`UPDATE userharbor_users SET email = ${email}, email_key = ${emailKey} WHERE id = ${userId}${
          expectedPasswordVersion === undefined ? sql`` : sql` AND password_version = ${expectedPasswordVersion}`
        }`.raw.pipe(
          Effect.flatMap(decodeAffected),
          Effect.map((n) => n > 0),
          Effect.catchTag("SqlError", (error): Effect.Effect<never, EmailTaken | StoreError> =>
            SqlErrors.classify(error) === "UniqueViolation"
              ? Effect.fail(new EmailTaken())
              : storeError("moveEmail")(error))
        )
      ),

    insertRevertToken: (record) =>
      sql`INSERT INTO userharbor_email_reverts ${
        sql.insert({
          token_hash: record.tokenHash,
          user_id: record.userId,
          old_email: record.oldEmail,
          old_email_key: record.oldEmailKey,
          created_at: record.createdAt,
          expires_at: record.expiresAt
        })
      }`.pipe(Effect.asVoid, Effect.catchTag("SqlError", storeError("insertRevertToken"))),
    consumeRevertToken: (tokenHash) =>
      consume(
        "consumeRevertToken",
        "userharbor_email_reverts",
        revertColumns,
        sql`token_hash = ${tokenHash}`,
        decodeReverts
      ),
    deleteRevertTokens: ({ createdFrom, userId }) =>
      affected(
        "deleteRevertTokens",
        sql`DELETE FROM userharbor_email_reverts WHERE user_id = ${userId} AND created_at >= ${createdFrom}`.raw
      ),

    purgeExpiredEmailChanges: ({ limit, now }) =>
      Effect.gen(function*() {
        if (limit <= 0) return 0
        const operation = "purgeExpiredEmailChanges"
        const changes = yield* purge(operation, "userharbor_email_changes", ["user_id"], now, limit)
        if (changes >= limit) return changes
        return changes + (yield* purge(operation, "userharbor_email_reverts", ["token_hash"], now, limit - changes))
      })
  })
}
