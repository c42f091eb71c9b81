/**
 * The rows of `SqlUserStore`: one column list and one decoder per record, for every path that reads it (the
 * statements of `SqlUserStore`, and the drivers' session fast paths in `sessionRow.ts`, `sqliteSessionReader.ts`
 * and `pgSessionReader.ts`). The two value rules below (`integer`, `boolean`) are the only ones: the `Schema`
 * decoders are built on them, so a hand-written fast path and the `Schema` path cannot disagree on a value.
 */
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import { TokenPurpose } from "../Errors.js"
import { SessionId, UserId } from "../User.js"
import { EmailKey, type SessionRecord, type SessionUser, TokenHash, UsernameKey } from "../UserStore.js"

/**
 * An integer as the drivers return one: a number, a bigint (better-sqlite3's safe-integer mode) or a decimal string
 * (pg's BIGINT, mysql2 with big numbers); `undefined` for anything else, including `"1e3"`, `"12.5"`, `""` and
 * integers beyond `Number.MAX_SAFE_INTEGER`, which no driver returns for our columns.
 */
export const integer = (u: unknown): number | undefined => {
  const n = (Predicate.isString(u) && /^-?\d+$/.test(u)) || Predicate.isBigInt(u) ? Number(u) : u
  return typeof n === "number" && Number.isSafeInteger(n) ? n : undefined
}

/** A boolean as the drivers return one: a boolean (PostgreSQL) or 0/1 (SQLite, MySQL); `undefined` otherwise. */
export const boolean = (u: unknown): boolean | undefined =>
  Predicate.isBoolean(u) ? u : u === 0 || u === 1 ? u === 1 : undefined

const fromRule = <A, I>(read: (u: unknown) => A | undefined, to: Schema.Schema<A, I>, expected: string) =>
  Schema.transformOrFail(Schema.Unknown, Schema.typeSchema(to), {
    strict: true,
    decode: (u, _, ast) => {
      const value = read(u)
      return value === undefined ? ParseResult.fail(new ParseResult.Type(ast, u, expected)) : ParseResult.succeed(value)
    },
    encode: ParseResult.succeed
  })

/** `integer` as a `Schema`, for the `Schema` rows. */
export const Integer = fromRule(integer, Schema.Int, "a safe integer, as a number, bigint or decimal string")

/** `boolean` as a `Schema`, for the `Schema` rows. */
export const Bool = fromRule(boolean, Schema.Boolean, "a boolean, or 0 or 1")

const column = <S extends Schema.Schema.Any>(schema: S, name: string) =>
  Schema.propertySignature(schema).pipe(Schema.fromKey(name))

/** A column list, each column prefixed by `table` (`"u."`) when the statement names several tables. */
const columns = (names: ReadonlyArray<string>) => (table = ""): string =>
  names.map((name) => `${table}${name}`).join(", ")

/** `UserRecord`'s columns. */
export const userColumns = columns([
  "id",
  "username",
  "username_key",
  "email",
  "email_key",
  "password_hash",
  "password_version",
  "verified",
  "created_at"
])

const UserRow = Schema.Struct({
  id: UserId,
  username: Schema.String,
  usernameKey: column(UsernameKey, "username_key"),
  email: Schema.String,
  emailKey: column(EmailKey, "email_key"),
  passwordHash: column(Schema.String, "password_hash"),
  passwordVersion: column(Integer, "password_version"),
  verified: Bool,
  createdAt: column(Integer, "created_at")
})

/** `TokenRecord`'s columns. */
export const tokenColumns = columns(["token_hash", "purpose", "user_id", "created_at", "expires_at"])

const TokenRow = Schema.Struct({
  tokenHash: column(TokenHash, "token_hash"),
  purpose: TokenPurpose,
  userId: column(UserId, "user_id"),
  createdAt: column(Integer, "created_at"),
  expiresAt: column(Integer, "expires_at")
})

/** `OutboxRecord`'s columns. */
export const outboxColumns = columns(["id", "payload", "created_at", "attempts", "next_attempt_at"])

const OutboxRow = Schema.Struct({
  id: Schema.String,
  payload: Schema.String,
  createdAt: column(Integer, "created_at"),
  attempts: Integer,
  nextAttemptAt: column(Integer, "next_attempt_at")
})

/** A counter's columns. */
export const counterColumns = columns(["hits", "window_start", "updated_at"])

const CounterRow = Schema.Struct({
  count: column(Integer, "hits"),
  windowStart: column(Integer, "window_start"),
  updatedAt: column(Integer, "updated_at")
})

const KeyRow = Schema.Struct({ usernameKey: column(Schema.String, "username_key") })

// What each driver reports for a write: pg `rowCount`, better-sqlite3 `changes`, mysql2 `affectedRows`. All count
// only the rows the statement itself changed, not those removed by a cascade.
const Affected = Schema.Union(
  Schema.transform(Schema.Struct({ rowCount: Integer }), Schema.Int, {
    strict: true,
    decode: (r) => r.rowCount,
    encode: (rowCount) => ({ rowCount })
  }),
  Schema.transform(Schema.Struct({ changes: Integer }), Schema.Int, {
    strict: true,
    decode: (r) => r.changes,
    encode: (changes) => ({ changes })
  }),
  Schema.transform(Schema.Struct({ affectedRows: Integer }), Schema.Int, {
    strict: true,
    decode: (r) => r.affectedRows,
    encode: (affectedRows) => ({ affectedRows })
  })
)

// A row the database returned in an impossible shape is a bug or a corrupt database, not a store outage: defect.
// Decoders are built once here: building a Schema (and its parser) per call costs more than the query itself.
const decodeRows = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknown(Schema.Array(schema))
  return (rows: unknown) => Effect.orDie(decode(rows))
}

/** Rows of `userColumns`. */
export const decodeUsers = decodeRows(UserRow)
/** Rows of `tokenColumns`. */
export const decodeTokens = decodeRows(TokenRow)
// SUM and MIN give NULL on an empty table, and SUM a DECIMAL string on MySQL.
const OutboxSummaryRow = Schema.Struct({
  waiting: Integer,
  due: Schema.NullOr(Integer),
  claimed: Schema.NullOr(Integer),
  failed: Schema.NullOr(Integer),
  oldest: Schema.NullOr(Integer)
})

/** The one row of the outbox summary query. */
export const decodeOutboxSummary = decodeRows(OutboxSummaryRow)

/** Rows of `outboxColumns`. */
export const decodeOutbox = decodeRows(OutboxRow)
/** Rows of `counterColumns`. */
export const decodeCounters = decodeRows(CounterRow)
/** Rows of `username_key` alone. */
export const decodeKeys = decodeRows(KeyRow)

const decodeAffectedRaw = Schema.decodeUnknown(Affected)
/** How many rows a write changed, from the driver's raw result. */
export const decodeAffected = (raw: unknown) => Effect.orDie(decodeAffectedRaw(raw))

/** `SessionRecord`'s columns but its key (`token_hash`), which the look-up by token hash already knows. */
export const sessionColumns = columns(["id", "user_id", "created_at", "expires_at", "last_used_at"])

/** `SessionUser`'s columns: never the password hash. `created_at` is renamed apart from the session's. */
export const sessionUserColumns = (table = ""): string =>
  `${table}username, ${table}email, ${table}verified, ${table}created_at AS user_created_at`

// The row was checked field by field just before, so the brands' own (string) check would only repeat it.
const trusted = { disableValidation: true } as const

/**
 * A row of `sessionColumns` for `tokenHash`, or `undefined` for a row of any other shape. The only decoder of a
 * session, on every driver and path. Hand-written rather than a `Schema`: on the session-check path the generic
 * decoder costs as much as the query.
 */
export const sessionRecord = (row: Record<PropertyKey, unknown>, tokenHash: TokenHash): SessionRecord | undefined => {
  const { id, user_id } = row
  const createdAt = integer(row.created_at)
  const expiresAt = integer(row.expires_at)
  const lastUsedAt = integer(row.last_used_at)
  if (
    !Predicate.isString(id) || !Predicate.isString(user_id) || createdAt === undefined || expiresAt === undefined ||
    lastUsedAt === undefined
  ) return undefined
  return {
    id: SessionId.make(id, trusted),
    tokenHash,
    userId: UserId.make(user_id, trusted),
    createdAt,
    expiresAt,
    lastUsedAt
  }
}

/** A row of `sessionUserColumns` for the user `userId`, or `undefined` for a row of any other shape. */
export const sessionUser = (row: Record<PropertyKey, unknown>, userId: UserId): SessionUser | undefined => {
  const { email, username } = row
  const verified = boolean(row.verified)
  const createdAt = integer(row.user_created_at)
  if (
    !Predicate.isString(username) || !Predicate.isString(email) || verified === undefined || createdAt === undefined
  ) {
    return undefined
  }
  return { id: userId, username, email, verified, createdAt }
}

/** Rows of `token_hash` and `sessionColumns`; an impossible row is a defect, as for the `Schema` rows. */
export const decodeSessions = (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<SessionRecord>> => {
  const sessions: Array<SessionRecord> = []
  for (const row of rows) {
    const session = Predicate.isRecord(row) && Predicate.isString(row.token_hash)
      ? sessionRecord(row, TokenHash.make(row.token_hash, trusted))
      : undefined
    if (session === undefined) return Effect.dieMessage("listUserSessions: unexpected row shape")
    sessions.push(session)
  }
  return Effect.succeed(sessions)
}
