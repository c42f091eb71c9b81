import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type { StoreError } from "../Errors.js"
import { SessionId, UserId } from "../User.js"
import type { SessionWithUser, TokenHash, UserStore } from "../UserStore.js"

/**
 * The session look-up, shared by `SqlUserStore.findSession` and the drivers' fast paths, which run it with a
 * statement prepared once and no `SqlClient` in between. Why: session checks run on every request, and through
 * `SqlClient` one look-up costs several times the query itself (statement compilation, the prepared-statement
 * cache, connection handling, a span); see docs/performance.md. It reads only what a session check returns or
 * needs for its expiry rules: never the password hash, never the token hash it was given.
 */
export const sessionQuery = (placeholder: string) =>
  `SELECT ${sessionColumns("s.")}, ${userColumns("u.")}
  FROM userharbor_sessions s JOIN userharbor_users u ON u.id = s.user_id
  WHERE s.token_hash = ${placeholder}`

// The one column list, for the join above and for SQLite's two look-ups below.
const sessionColumns = (table: string) =>
  `${table}id, ${table}user_id, ${table}created_at, ${table}expires_at, ${table}last_used_at`
const userColumns = (table: string) =>
  `${table}username, ${table}email, ${table}verified, ${table}created_at AS user_created_at`

/**
 * The same look-up as two point reads, for SQLite's reader: there the join costs more than the two reads it
 * replaces (measured: 13 µs against 8.5 µs for the same nine columns, docs/performance.md). The caller merges
 * the rows; a session whose user is gone is no session, as the join says.
 */
export const sessionOnlyQuery = `SELECT ${sessionColumns("")} FROM userharbor_sessions WHERE token_hash = ?`
export const sessionUserQuery = `SELECT ${userColumns("")} FROM userharbor_users WHERE id = ?`

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
 * Reads a row of `sessionQuery` for `tokenHash`, or `undefined` for a row of any other shape. The only decoder of
 * this row, on every driver and path. Hand-written rather than a `Schema`: on this path the generic decoder costs
 * as much as the query.
 */
export const decodeRow = (row: unknown, tokenHash: TokenHash): SessionWithUser | undefined => {
  if (!Predicate.isRecord(row)) return undefined
  const { email, id, user_id, username } = row
  const verified = boolean(row.verified)
  const userCreatedAt = integer(row.user_created_at)
  const createdAt = integer(row.created_at)
  const expiresAt = integer(row.expires_at)
  const lastUsedAt = integer(row.last_used_at)
  if (
    !Predicate.isString(id) || !Predicate.isString(user_id) || !Predicate.isString(username) ||
    !Predicate.isString(email) || verified === undefined || userCreatedAt === undefined ||
    createdAt === undefined || expiresAt === undefined || lastUsedAt === undefined
  ) return undefined
  const userId = UserId.make(user_id, trusted)
  return {
    user: { id: userId, username, email, verified, createdAt: userCreatedAt },
    session: { id: SessionId.make(id, trusted), tokenHash, userId, createdAt, expiresAt, lastUsedAt }
  }
}

/** The first row decoded; an impossible row is a bug or a corrupt database, as on the normal path (`orDie`). */
export const firstSession = (
  rows: ReadonlyArray<unknown>,
  tokenHash: TokenHash
): Effect.Effect<Option.Option<SessionWithUser>> =>
  rows.length === 0 ? Effect.succeedNone : oneSession(rows[0], tokenHash)

/** `firstSession` for a driver that returns the row itself, or `undefined` for none. */
export const oneSession = (row: unknown, tokenHash: TokenHash): Effect.Effect<Option.Option<SessionWithUser>> => {
  if (row === undefined) return Effect.succeedNone
  const found = decodeRow(row, tokenHash)
  return found === undefined ? Effect.dieMessage("findSession: unexpected row shape") : Effect.succeedSome(found)
}

/**
 * `findSession` that takes `fast` outside a transaction and the store's own `findSession` inside one (the fiber
 * holds `SqlClient.TransactionConnection`), where the look-up must see the transaction's uncommitted writes.
 */
export const outsideTransactions = (
  fallback: UserStore["Type"]["findSession"],
  fast: (tokenHash: TokenHash) => Effect.Effect<Option.Option<SessionWithUser>, StoreError>
): UserStore["Type"]["findSession"] =>
(tokenHash) =>
  Effect.contextWithEffect((context: Context.Context<never>) =>
    inTransaction(context) ? fallback(tokenHash) : fast(tokenHash)
  )

/** Whether a fiber with this context runs inside an `@effect/sql` transaction (it holds the connection). */
export const inTransaction = (context: Context.Context<never>): boolean =>
  Context.getOrElse(context, SqlClient.TransactionConnection, none) !== undefined

const none = () => undefined
