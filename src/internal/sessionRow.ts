import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type { StoreError } from "../Errors.js"
import type { SessionWithUser, TokenHash, UserStoreService } from "../UserStore.js"
import { sessionColumns, sessionRecord, sessionUser, sessionUserColumns } from "./sqlRows.js"
import { inTransaction } from "./sqlTransaction.js"

/**
 * The session look-up, shared by `SqlUserStore.findSession` and the drivers' fast paths, which run it with a
 * statement prepared once and no `SqlClient` in between. Why: session checks run on every request, and through
 * `SqlClient` one look-up costs several times the query itself (statement compilation, the prepared-statement
 * cache, connection handling, a span); see docs/performance.md. It reads only what a session check returns or
 * needs for its expiry rules: never the password hash, never the token hash it was given.
 */
export const sessionQuery = (placeholder: string) =>
  `SELECT ${sessionColumns("s.")}, ${sessionUserColumns("u.")}
  FROM userharbor_sessions s JOIN userharbor_users u ON u.id = s.user_id
  WHERE s.token_hash = ${placeholder}`

/**
 * `sessionQuery` for several token hashes at once (a text array), each row with the hash it answers for
 * (`lookup_hash`), so that look-ups waiting together share one round trip (`pgSessionReader.ts`).
 */
export const sessionBatchQuery = (placeholder: string) =>
  `SELECT s.token_hash AS lookup_hash, ${sessionColumns("s.")}, ${sessionUserColumns("u.")}
  FROM userharbor_sessions s JOIN userharbor_users u ON u.id = s.user_id
  WHERE s.token_hash = ANY(${placeholder})`

/**
 * The same look-up as two point reads, for SQLite's reader: there the join costs more than the two reads it
 * replaces (measured: 13 µs against 8.5 µs for the same nine columns, docs/performance.md). The caller merges
 * the rows; a session whose user is gone is no session, as the join says.
 */
export const sessionOnlyQuery = `SELECT ${sessionColumns()} FROM userharbor_sessions WHERE token_hash = ?`
export const sessionUserQuery = `SELECT ${sessionUserColumns()} FROM userharbor_users WHERE id = ?`

/**
 * Reads a row of `sessionQuery` (or the merged rows of the two point reads) for `tokenHash`, or `undefined` for a
 * row of any other shape: the session and user decoders of `sqlRows.ts`, the only ones of these records.
 */
export const decodeRow = (row: unknown, tokenHash: TokenHash): SessionWithUser | undefined => {
  if (!Predicate.isRecord(row)) return undefined
  const session = sessionRecord(row, tokenHash)
  const user = session === undefined ? undefined : sessionUser(row, session.userId)
  return session === undefined || user === undefined ? undefined : { user, session }
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
 * `findSession` that takes `fast` outside a transaction and the store's own `findSession` inside one, where the
 * look-up must see the transaction's uncommitted writes.
 */
export const outsideTransactions = (
  fallback: UserStoreService["findSession"],
  fast: (tokenHash: TokenHash) => Effect.Effect<Option.Option<SessionWithUser>, StoreError>
): UserStoreService["findSession"] =>
(tokenHash) =>
  Effect.contextWithEffect((context: Context.Context<never>) =>
    inTransaction(context) ? fallback(tokenHash) : fast(tokenHash)
  )
