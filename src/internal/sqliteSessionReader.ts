import Database from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import type * as Scope from "effect/Scope"
import { StoreError } from "../Errors.js"
import type { SessionWithUser, TokenHash, UserStoreService } from "../UserStore.js"
import { decodeRow, oneSession, outsideTransactions, sessionOnlyQuery, sessionUserQuery } from "./sessionRow.js"
import { inTransaction } from "./sqlTransaction.js"
import * as SyncLookup from "./syncLookup.js"

const mmapBytes = 1024 * 1024 * 1024

/** Whether a second connection to `filename` reaches the same database (not `:memory:` nor a temporary one). */
export const isSharedFile = (filename: string): boolean => filename !== "" && filename !== ":memory:"

/**
 * The SQLite fast path: the session look-up on a second, read-only connection to the same file, with its two
 * statements prepared once. In WAL mode a reader sees every committed write and never waits for the writer, so a look-up also
 * no longer queues behind a transaction that holds the client's only connection. Call it after the migrations ran
 * (the statement needs the tables); failing to open or prepare is a `StoreError`.
 */
export const make = (
  filename: string,
  busyTimeoutMillis: number,
  fallback: UserStoreService["findSession"]
): Effect.Effect<UserStoreService["findSession"], StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => new Database(filename, { readonly: true, fileMustExist: true, timeout: busyTimeoutMillis }),
        catch: (cause) => new StoreError({ operation: "connect", cause })
      }),
      (db) => Effect.sync(() => db.close())
    )
    const [sessionStatement, userStatement, versionStatement] = yield* Effect.try({
      try: () => {
        // Memory-mapped reads: a page the OS already caches is read in place, without a system call and a copy per
        // page. On a large table, where each check touches pages no other recent check touched, that is a fifth
        // of the look-up (docs/performance.md). Read-only, on this connection only; address space, not memory.
        db.pragma(`mmap_size = ${mmapBytes}`)
        return [
          db.prepare(sessionOnlyQuery),
          db.prepare(sessionUserQuery),
          db.prepare("PRAGMA data_version").pluck()
        ] as const
      },
      catch: (cause) => new StoreError({ operation: "connect", cause })
    })
    // The row `sessionQuery` would return, from two point reads (each its own snapshot: a user deleted in between
    // took its sessions with it, so no user means no session). Throws on a database error. The user's columns are
    // copied onto the session's row (a fresh object of the driver's): an object spread of two rows is V8's slow
    // path, 3 µs of a 15 µs check (docs/performance.md, "HTTP load").
    const readRow = (tokenHash: string): unknown => {
      const session: unknown = sessionStatement.get(tokenHash)
      if (!Predicate.isRecord(session) || !Predicate.isString(session.user_id)) return session
      const user: unknown = userStatement.get(session.user_id)
      return Predicate.isRecord(user) ? Object.assign(session, user) : undefined
    }
    const lookup = (tokenHash: TokenHash): SessionWithUser | undefined => {
      const row = readRow(tokenHash)
      if (row === undefined) return undefined
      const found = decodeRow(row, tokenHash)
      if (found === undefined) throw new Error("findSession: unexpected row shape")
      return found
    }
    const findSession = outsideTransactions(fallback, (tokenHash) =>
      Effect.suspend(() => {
        let row: unknown
        try {
          row = readRow(tokenHash)
        } catch (cause) {
          return Effect.fail(new StoreError({ operation: "findSession", cause }))
        }
        return oneSession(row, tokenHash)
      }))
    return SyncLookup.register(findSession, {
      lookup,
      appliesIn: (fiber) => !inTransaction(fiber.currentContext),
      // SQLite's own change counter: on this connection it moves whenever another connection commits, in this
      // process (the client's writer) or any other (the operator CLI, a script); about a microsecond to read.
      version: (): unknown => versionStatement.get()
    })
  })
