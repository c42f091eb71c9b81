/**
 * Statement shapes that more than one port of `SqlUserStore` uses: the single-use consumption of a row and the
 * bounded purge of expired rows, each written once for every dialect.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { StoreError } from "../Errors.js"
import * as SqlErrors from "./sqlErrors.js"
import { decodeAffected } from "./sqlRows.js"

/** The store's transaction for one operation, `SqlError`s (also at COMMIT) as `StoreError`s. */
export type Transaction = (
  operation: string
) => <A, E, R>(
  self: Effect.Effect<A, E, R>
) => Effect.Effect<A, Exclude<E | SqlError, Extract<E | SqlError, SqlError>> | StoreError, R>

export interface Deps {
  /** The client, without name transforms. */
  readonly sql: SqlClient.SqlClient
  /** PostgreSQL, SQLite and MariaDB; not MySQL. */
  readonly hasDeleteReturning: boolean
  readonly transaction: Transaction
}

/**
 * Removes the row `where` names and returns it, to one consumer only: one `DELETE … RETURNING` where the database
 * has it; on MySQL a locking read, which makes a concurrent consumer wait, and a delete whose affected rows decide
 * who won, in one transaction.
 */
export const consumer = ({ hasDeleteReturning, sql, transaction }: Deps) =>
<A>(
  operation: string,
  table: string,
  columns: string,
  where: Statement.Fragment,
  decode: (rows: unknown) => Effect.Effect<ReadonlyArray<A>>
): Effect.Effect<Option.Option<A>, StoreError> => {
  const first = (rows: ReadonlyArray<A>) => Option.fromNullable(rows[0])
  if (hasDeleteReturning) {
    return sql`DELETE FROM ${sql(table)} WHERE ${where} RETURNING ${sql.literal(columns)}`.pipe(
      Effect.flatMap(decode),
      Effect.map(first),
      Effect.catchTag("SqlError", SqlErrors.failStore(operation))
    )
  }
  return transaction(operation)(Effect.gen(function*() {
    const row = first(
      yield* Effect.flatMap(sql`SELECT ${sql.literal(columns)} FROM ${sql(table)} WHERE ${where} FOR UPDATE`, decode)
    )
    if (Option.isNone(row)) return row
    const deleted = yield* Effect.flatMap(sql`DELETE FROM ${sql(table)} WHERE ${where}`.raw, decodeAffected)
    return deleted === 1 ? row : Option.none<A>()
  }))
}

/**
 * Deletes at most `limit` rows of `table` whose `column` is before `before` and returns how many: MySQL has
 * `DELETE … LIMIT`, the others a sub-select on the table's key (`key`, its columns).
 */
export const purgeRowsBefore = (sql: SqlClient.SqlClient) =>
(
  operation: string,
  table: string,
  key: ReadonlyArray<string>,
  column: string,
  before: number,
  limit: number
): Effect.Effect<number, StoreError> => {
  const columns = sql.literal(key.join(", "))
  const keyed = key.length === 1 ? columns : sql.literal(`(${key.join(", ")})`)
  const older = sql`${sql(column)} < ${before}`
  return sql.onDialectOrElse({
    mysql: () => sql`DELETE FROM ${sql(table)} WHERE ${older} LIMIT ${limit}`.raw,
    orElse: () =>
      sql`DELETE FROM ${sql(table)} WHERE ${keyed} IN (
        SELECT ${columns} FROM ${sql(table)} WHERE ${older} LIMIT ${limit})`.raw
  }).pipe(Effect.flatMap(decodeAffected), Effect.catchTag("SqlError", SqlErrors.failStore(operation)))
}

/** Deletes at most `limit` rows of `table` that expired at or before `now` (instants are whole milliseconds). */
export const purgeExpiredRows = (sql: SqlClient.SqlClient) =>
(
  operation: string,
  table: string,
  key: ReadonlyArray<string>,
  now: number,
  limit: number
): Effect.Effect<number, StoreError> => purgeRowsBefore(sql)(operation, table, key, "expires_at", now + 1, limit)
