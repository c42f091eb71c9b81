import * as SqlClient from "@effect/sql/SqlClient"
import Database from "better-sqlite3"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type * as Scope from "effect/Scope"
import { StoreError } from "../Errors.js"
import { SessionId, UserId } from "../User.js"
import type { SessionWithUser, UserStore } from "../UserStore.js"

/**
 * The session look-up of `SqlUserStore.findSession`, the same SQL, on a second, read-only connection to the same
 * file with the statement prepared once.
 *
 * Why: session checks run on every request, and through `SqlClient` one look-up pays for statement compilation,
 * the prepared-statement cache, the connection's semaphore and a span, several times the query itself
 * (docs/performance.md). In WAL mode a reader sees every committed write and never waits for the writer, so the
 * look-up also no longer queues behind a transaction that holds the client's only connection.
 *
 * It is used only outside a transaction: inside one (the fiber holds `SqlClient.TransactionConnection`), the
 * look-up must see the transaction's own uncommitted writes, so it goes through the client as before.
 */
const sessionQuery = `SELECT u.id, u.username, u.username_key, u.email, u.email_key, u.password_hash,
  u.password_version, u.verified, u.created_at, s.id AS session_id, s.token_hash, s.user_id,
  s.created_at AS session_created_at, s.expires_at, s.last_used_at
  FROM userharbor_sessions s JOIN userharbor_users u ON u.id = s.user_id
  WHERE s.token_hash = ?`

const isInteger = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u)
const isBoolean = (u: unknown): u is 0 | 1 => u === 0 || u === 1

// The row was checked field by field just before, so the brands' own (string) check would only repeat it.
const trusted = { disableValidation: true } as const

/**
 * Reads a joined row as better-sqlite3 returns it (integers as numbers, booleans as 0/1), or `undefined` for a row
 * of any other shape. Hand-written rather than a `Schema`: on this path the generic decoder costs as much as the
 * query.
 */
export const decodeRow = (row: unknown): SessionWithUser | undefined => {
  if (!Predicate.isRecord(row)) return undefined
  const {
    created_at,
    email,
    email_key,
    expires_at,
    id,
    last_used_at,
    password_hash,
    password_version,
    session_created_at,
    session_id,
    token_hash,
    user_id,
    username,
    username_key,
    verified
  } = row
  if (
    !Predicate.isString(id) || !Predicate.isString(username) || !Predicate.isString(username_key) ||
    !Predicate.isString(email) || !Predicate.isString(email_key) || !Predicate.isString(password_hash) ||
    !isInteger(password_version) || !isBoolean(verified) || !isInteger(created_at) ||
    !Predicate.isString(session_id) || !Predicate.isString(token_hash) || !Predicate.isString(user_id) ||
    !isInteger(session_created_at) || !isInteger(expires_at) || !isInteger(last_used_at)
  ) return undefined
  return {
    user: {
      id: UserId.make(id, trusted),
      username,
      usernameKey: username_key,
      email,
      emailKey: email_key,
      passwordHash: password_hash,
      passwordVersion: password_version,
      verified: verified === 1,
      createdAt: created_at
    },
    session: {
      id: SessionId.make(session_id, trusted),
      tokenHash: token_hash,
      userId: UserId.make(user_id, trusted),
      createdAt: session_created_at,
      expiresAt: expires_at,
      lastUsedAt: last_used_at
    }
  }
}

/** Whether a second connection to `filename` reaches the same database (not `:memory:` nor a temporary one). */
export const isSharedFile = (filename: string): boolean => filename !== "" && filename !== ":memory:"

/**
 * Opens the read-only connection (closed with the scope) and returns `findSession` with the fast path; call it
 * after the migrations ran, so the table exists. Failing to open or prepare is a `StoreError`.
 */
export const make = (
  filename: string,
  busyTimeoutMillis: number,
  fallback: UserStore["Type"]["findSession"]
): Effect.Effect<UserStore["Type"]["findSession"], StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => new Database(filename, { readonly: true, fileMustExist: true, timeout: busyTimeoutMillis }),
        catch: (cause) => new StoreError({ operation: "connect", cause })
      }),
      (db) => Effect.sync(() => db.close())
    )
    const statement = yield* Effect.try({
      try: () => db.prepare(sessionQuery),
      catch: (cause) => new StoreError({ operation: "connect", cause })
    })

    const fast = (tokenHash: string): Effect.Effect<Option.Option<SessionWithUser>, StoreError> => {
      let row: unknown
      try {
        row = statement.get(tokenHash)
      } catch (cause) {
        return Effect.fail(new StoreError({ operation: "findSession", cause }))
      }
      if (row === undefined) return Effect.succeedNone
      const found = decodeRow(row)
      // An impossible row is a bug or a corrupt file, as on the normal path (which decodes under `orDie`).
      return found === undefined ? Effect.dieMessage("findSession: unexpected row shape") : Effect.succeedSome(found)
    }

    return (tokenHash) =>
      Effect.contextWithEffect((context: Context.Context<never>) =>
        Option.isSome(Context.getOption(context, SqlClient.TransactionConnection))
          ? fallback(tokenHash)
          : Effect.suspend(() => fast(tokenHash))
      )
  })
