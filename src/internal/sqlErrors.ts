/**
 * What an `SqlError` means, decided here once for `SqlUserStore`, `SqlMigrations` and the start-up messages, and
 * the one mapping of SQL failures to `StoreError`. The driver's error code is read in `driverErrorCode` only: in
 * Effect 4 `SqlError.cause` no longer carries it, and a port that missed one reader would still compile and
 * silently turn `UsernameTaken` into `StoreError` (test/unit/internal/sqlErrors.test.ts provokes each on real drivers).
 */
import { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import { StoreError } from "../Errors.js"
import { driverErrorCode } from "./errorCode.js"

/**
 * The driver's error code on a driver error, or `undefined`. The only reader of it: classification and start-up
 * messages go through here (it lives in `errorCode.ts`, which loads no `@effect/sql`, for the Redis entry point).
 */
export { driverErrorCode }

/** Whether `u` is an `SqlError`. */
export const isSqlError = (u: unknown): u is SqlError => u instanceof SqlError

/**
 * - `UniqueViolation`: a unique or primary key refused the row (which key, the store reads back: SQLite and MySQL
 *   name it only in the message text, which we never parse).
 * - `Transient`: the database rolled the whole transaction back and asks for a retry.
 * - `Other`: anything else, a store failure.
 */
export type SqlErrorKind = "UniqueViolation" | "Transient" | "Other"

// better-sqlite3, pg (`23505`) and mysql2 (`ER_DUP_ENTRY`, MySQL and MariaDB).
const uniqueCodes = new Set<string>([
  "SQLITE_CONSTRAINT_UNIQUE",
  "SQLITE_CONSTRAINT_PRIMARYKEY",
  "23505",
  "ER_DUP_ENTRY"
])

// Deadlocks and serialization failures (InnoDB's next-key locks make concurrent upserts on a table with two unique
// keys deadlock now and then). When the deadlock hits inside a savepoint, MariaDB/MySQL discard the savepoint with
// the rest of the transaction, so the savepoint's own rollback then fails with ER_SP_DOES_NOT_EXIST, as a defect
// that replaces the deadlock: it means the same thing, the transaction is gone.
const transientCodes = new Set<string>(["ER_LOCK_DEADLOCK", "40P01", "40001", "ER_SP_DOES_NOT_EXIST"])

/** What `error` means, from its driver error's code (never the message text). */
export const classify = (error: SqlError): SqlErrorKind => {
  const code = driverErrorCode(error.cause)
  return code === undefined
    ? "Other"
    : uniqueCodes.has(code)
    ? "UniqueViolation"
    : transientCodes.has(code)
    ? "Transient"
    : "Other"
}

/** Whether `u`, an `SqlError` or a `StoreError` that holds one, is `Transient`. */
export const isTransient = (u: unknown): boolean => {
  const sqlError = u instanceof StoreError ? u.unsafeDriverError() : u
  return isSqlError(sqlError) && classify(sqlError) === "Transient"
}

/**
 * The `StoreError` of `operation` for a failure of the database (an `SqlError`, or the Migrator's error that holds
 * one). It never names the SQL or its parameters; `reason`, when given, says what to fix.
 */
export const toStoreError =
  (operation: string, reason?: (cause: unknown) => string | undefined) => (cause: unknown): StoreError =>
    new StoreError({ operation, reason: reason?.(cause), cause })

/** `toStoreError`, failed. */
export const failStore = (operation: string) => (cause: SqlError): Effect.Effect<never, StoreError> =>
  Effect.fail(toStoreError(operation)(cause))

/**
 * `self` with its database failures as `StoreError`s (`isFailure` says which), whether they arrive as failures or
 * as defects: `@effect/sql` runs `COMMIT` (and a `ROLLBACK` after a failed `BEGIN`) under `orDie`, and the Migrator
 * dies with a failed migration. Other defects stay defects.
 */
export const catchStoreFailures =
  <X>(isFailure: Predicate.Refinement<unknown, X>, toError: (cause: X) => StoreError) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, Extract<E, X>> | StoreError, R> =>
    self.pipe(
      Effect.catchIf((e): e is Extract<E, X> => isFailure(e), (e) => Effect.fail(toError(e))),
      Effect.catchSomeDefect((defect) => isFailure(defect) ? Option.some(Effect.fail(toError(defect))) : Option.none())
    )

/** `catchStoreFailures` for the `SqlError`s of a store method, as the `StoreError` of `operation`. */
export const orStoreError = (operation: string) => catchStoreFailures(isSqlError, toStoreError(operation))
