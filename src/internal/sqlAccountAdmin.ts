/**
 * `SqlUserStore`'s `AccountAdminStore`: the statements and rows of migration 0009, on the client and transaction
 * of the store's other ports.
 *
 * A lock and a login racing it: `insertLock` first takes the user's row lock (`FOR UPDATE`; SQLite has one writer
 * already), which conflicts with the key-share lock that a session insert's foreign-key check takes on the same row.
 * So a session being inserted either commits first (and the `deleteUserSessions` of the lock's transaction, a later
 * statement, sees and ends it) or waits for the lock to commit (and the `findLock` that the login runs after its
 * insert, in its transaction, sees the lock and rolls the session back). No session of a locked account survives.
 *
 * The directory is read by keyset: `created_at` then `id` (bytewise: `COLLATE "C"` on PostgreSQL, where the index
 * of migration 0009 has the same collation), a page starting strictly after the last entry of the previous one.
 */
import type * as Statement from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import {
  AccountAdminStore,
  type AccountAdminStoreService,
  type AccountLockRecord,
  type UserListEntry,
  type UserListQuery
} from "../AccountAdminStore.js"
import { UserId } from "../User.js"
import * as SqlErrors from "./sqlErrors.js"
import { Bool, decodeAffected, Integer } from "./sqlRows.js"
import type { Deps } from "./sqlShared.js"

const column = <S extends Schema.Schema.Any>(schema: S, name: string) =>
  Schema.propertySignature(schema).pipe(Schema.fromKey(name))

const LockRow = Schema.Struct({
  userId: column(UserId, "user_id"),
  reason: Schema.String,
  actorId: column(Schema.String, "actor_id"),
  lockedAt: column(Integer, "locked_at")
})
const lockColumns = "user_id, reason, actor_id, locked_at"

// A user's public fields and, from the outer join, its lock's (all null when it has none).
const EntryRow = Schema.Struct({
  id: UserId,
  username: Schema.String,
  email: Schema.String,
  verified: Bool,
  createdAt: column(Integer, "created_at"),
  reason: Schema.NullOr(Schema.String),
  actorId: column(Schema.NullOr(Schema.String), "actor_id"),
  lockedAt: column(Schema.NullOr(Integer), "locked_at")
})
const entryColumns = "u.id, u.username, u.email, u.verified, u.created_at, l.reason, l.actor_id, l.locked_at"

// A row the database returned in an impossible shape is a bug or a corrupt database: a defect.
const decodeLocks = (rows: unknown) => Effect.orDie(Schema.decodeUnknown(Schema.Array(LockRow))(rows))
const decodeEntries = (rows: unknown) => Effect.orDie(Schema.decodeUnknown(Schema.Array(EntryRow))(rows))

const toEntry = (row: typeof EntryRow.Type): UserListEntry => ({
  user: { id: row.id, username: row.username, email: row.email, verified: row.verified, createdAt: row.createdAt },
  lock: row.reason === null || row.actorId === null || row.lockedAt === null
    ? Option.none()
    : Option.some({ userId: row.id, reason: row.reason, actorId: row.actorId, lockedAt: row.lockedAt })
})

export const make = ({ sql, transaction }: Deps): AccountAdminStoreService => {
  const storeError = SqlErrors.failStore
  const isMysql = sql.onDialectOrElse({ mysql: () => true, orElse: () => false })
  const idOrder = sql.onDialectOrElse({ pg: () => sql`u.id COLLATE "C"`, orElse: () => sql`u.id` })
  const flag = (value: boolean) => sql.literal(value ? "TRUE" : "FALSE")

  const insertLock = (lock: AccountLockRecord) =>
    transaction("insertLock")(Effect.gen(function*() {
      // The row lock a racing session insert waits for, or that makes this wait for it (see the module's comment).
      const user = yield* sql.onDialectOrElse({
        sqlite: () => sql`SELECT id FROM userharbor_users WHERE id = ${lock.userId}`,
        orElse: () => sql`SELECT id FROM userharbor_users WHERE id = ${lock.userId} FOR UPDATE`
      })
      if (user.length === 0) return false
      // Its own savepoint, so that on PostgreSQL a second lock (a duplicate key) leaves the transaction usable.
      return yield* sql.withTransaction(
        sql`INSERT INTO userharbor_account_locks ${
          sql.insert({
            user_id: lock.userId,
            reason: lock.reason,
            actor_id: lock.actorId,
            locked_at: lock.lockedAt
          })
        }`
      ).pipe(
        Effect.as(true),
        Effect.catchTag("SqlError", (error) =>
          SqlErrors.classify(error) === "UniqueViolation" ? Effect.succeed(false) : Effect.fail(error))
      )
    }))

  const conditions = ({ after, filter }: UserListQuery): ReadonlyArray<Statement.Fragment> => [
    ...Option.match(after, {
      onNone: () => [],
      // The range on `created_at` alone is what every planner can take from the index.
      onSome: ({ createdAt, id }) => [
        sql`u.created_at >= ${createdAt}`,
        sql`(u.created_at > ${createdAt} OR ${idOrder} > ${id})`
      ]
    }),
    ...(filter.verified === undefined ? [] : [sql`u.verified = ${flag(filter.verified)}`]),
    ...(filter.locked === undefined ? [] : [filter.locked ? sql`l.user_id IS NOT NULL` : sql`l.user_id IS NULL`]),
    ...(filter.createdBefore === undefined ? [] : [sql`u.created_at < ${filter.createdBefore}`]),
    ...(filter.createdAfter === undefined ? [] : [sql`u.created_at > ${filter.createdAfter}`])
  ]

  const listUsers = (query: UserListQuery) => {
    if (query.limit <= 0) return Effect.succeed([])
    const where = conditions(query)
    return sql`SELECT ${sql.literal(entryColumns)}
      FROM userharbor_users u LEFT JOIN userharbor_account_locks l ON l.user_id = u.id
      ${where.length === 0 ? sql`` : sql`WHERE ${sql.and(where)}`}
      ORDER BY u.created_at, ${idOrder} LIMIT ${query.limit}`.pipe(
      Effect.flatMap(decodeEntries),
      Effect.map((rows) => rows.map(toEntry)),
      Effect.catchTag("SqlError", storeError("listUsers"))
    )
  }

  return AccountAdminStore.of({
    insertLock,
    deleteLock: (userId) =>
      sql`DELETE FROM userharbor_account_locks WHERE user_id = ${userId}`.raw.pipe(
        Effect.flatMap(decodeAffected),
        Effect.map((n) => n > 0),
        Effect.catchTag("SqlError", storeError("deleteLock"))
      ),
    // A locking read on MySQL: under REPEATABLE READ a plain one could answer from a snapshot older than a lock
    // that committed while the caller's transaction waited for the user's row (see the module's comment).
    findLock: (userId) =>
      sql`SELECT ${sql.literal(lockColumns)} FROM userharbor_account_locks WHERE user_id = ${userId}
        ${isMysql ? sql`LOCK IN SHARE MODE` : sql``}`.pipe(
        Effect.flatMap(decodeLocks),
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.catchTag("SqlError", storeError("findLock"))
      ),
    listUsers
  })
}
