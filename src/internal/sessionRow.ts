import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type { StoreError } from "../Errors.js"
import { SessionId, UserId } from "../User.js"
import type { SessionWithUser, UserStore } from "../UserStore.js"

/**
 * The session look-up, shared by `SqlUserStore.findSession` and the drivers' fast paths, which run it with a
 * statement prepared once and no `SqlClient` in between. Why: session checks run on every request, and through
 * `SqlClient` one look-up costs several times the query itself (statement compilation, the prepared-statement
 * cache, connection handling, a span); see docs/performance.md.
 */
export const sessionQuery = (placeholder: string) =>
  `SELECT u.id, u.username, u.username_key, u.email, u.email_key, u.password_hash,
  u.password_version, u.verified, u.created_at, s.id AS session_id, s.token_hash, s.user_id,
  s.created_at AS session_created_at, s.expires_at, s.last_used_at
  FROM userharbor_sessions s JOIN userharbor_users u ON u.id = s.user_id
  WHERE s.token_hash = ${placeholder}`

// As the drivers return them: integers as numbers, bigints (better-sqlite3's safe-integer mode) or decimal strings
// (pg's BIGINT); booleans as booleans (PostgreSQL) or 0/1 (SQLite, MySQL).
const integer = (u: unknown): number | undefined => {
  const n = (Predicate.isString(u) && /^-?\d+$/.test(u)) || Predicate.isBigInt(u) ? Number(u) : u
  return typeof n === "number" && Number.isSafeInteger(n) ? n : undefined
}
const boolean = (u: unknown): boolean | undefined =>
  Predicate.isBoolean(u) ? u : u === 0 || u === 1 ? u === 1 : undefined

// The row was checked field by field just before, so the brands' own (string) check would only repeat it.
const trusted = { disableValidation: true } as const

/**
 * Reads a joined row, or `undefined` for a row of any other shape. Hand-written rather than a `Schema`: on this
 * path the generic decoder costs as much as the query.
 */
export const decodeRow = (row: unknown): SessionWithUser | undefined => {
  if (!Predicate.isRecord(row)) return undefined
  const { email, email_key, id, password_hash, session_id, token_hash, user_id, username, username_key } = row
  const passwordVersion = integer(row.password_version)
  const verified = boolean(row.verified)
  const createdAt = integer(row.created_at)
  const sessionCreatedAt = integer(row.session_created_at)
  const expiresAt = integer(row.expires_at)
  const lastUsedAt = integer(row.last_used_at)
  if (
    !Predicate.isString(id) || !Predicate.isString(username) || !Predicate.isString(username_key) ||
    !Predicate.isString(email) || !Predicate.isString(email_key) || !Predicate.isString(password_hash) ||
    passwordVersion === undefined || verified === undefined || createdAt === undefined ||
    !Predicate.isString(session_id) || !Predicate.isString(token_hash) || !Predicate.isString(user_id) ||
    sessionCreatedAt === undefined || expiresAt === undefined || lastUsedAt === undefined
  ) return undefined
  return {
    user: {
      id: UserId.make(id, trusted),
      username,
      usernameKey: username_key,
      email,
      emailKey: email_key,
      passwordHash: password_hash,
      passwordVersion,
      verified,
      createdAt
    },
    session: {
      id: SessionId.make(session_id, trusted),
      tokenHash: token_hash,
      userId: UserId.make(user_id, trusted),
      createdAt: sessionCreatedAt,
      expiresAt,
      lastUsedAt
    }
  }
}

/** The first row decoded; an impossible row is a bug or a corrupt database, as on the normal path (`orDie`). */
export const firstSession = (rows: ReadonlyArray<unknown>): Effect.Effect<Option.Option<SessionWithUser>> => {
  if (rows.length === 0) return Effect.succeedNone
  const found = decodeRow(rows[0])
  return found === undefined ? Effect.dieMessage("findSession: unexpected row shape") : Effect.succeedSome(found)
}

/**
 * `findSession` that takes `fast` outside a transaction and the store's own `findSession` inside one (the fiber
 * holds `SqlClient.TransactionConnection`), where the look-up must see the transaction's uncommitted writes.
 */
export const outsideTransactions = (
  fallback: UserStore["Type"]["findSession"],
  fast: (tokenHash: string) => Effect.Effect<Option.Option<SessionWithUser>, StoreError>
): UserStore["Type"]["findSession"] =>
(tokenHash) =>
  Effect.contextWithEffect((context: Context.Context<never>) =>
    Option.isSome(Context.getOption(context, SqlClient.TransactionConnection)) ? fallback(tokenHash) : fast(tokenHash)
  )
