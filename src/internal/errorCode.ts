/**
 * The driver's error code on a driver error (`code` on better-sqlite3's, pg's, mysql2's and Node's socket errors),
 * or `undefined`. Apart from `sqlErrors.ts` (which re-exports it as the SQL stores' only reader of the code), so
 * that the start-up messages, which the Redis entry point shares, load no `@effect/sql`.
 */
import * as Predicate from "effect/Predicate"

export const driverErrorCode = (u: unknown): string | undefined =>
  Predicate.hasProperty(u, "code") && (Predicate.isString(u.code) || Predicate.isNumber(u.code))
    ? String(u.code)
    : undefined
