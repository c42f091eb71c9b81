/**
 * `migrate` and `status`: which of `SqlMigrations` the database has, read from its migrations table without
 * creating it (the `Migrator` creates the table on its first run, which `status` must not do).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { StoreError } from "../../Errors.js"
import * as SqlMigrations from "../../SqlMigrations.js"
import { toStoreError } from "../sqlErrors.js"
import { Integer } from "../sqlRows.js"
import { Unavailable } from "./exit.js"

export interface Migration {
  readonly id: number
  readonly name: string
}

export interface Status {
  /** Recorded in the database, oldest first, with when (as the database wrote it). */
  readonly applied: ReadonlyArray<Migration & { readonly appliedAt: string | null }>
  /** Known to this version and not recorded: what `migrate` runs. */
  readonly pending: ReadonlyArray<Migration>
  /** Recorded but unknown to this version: the database was migrated by a newer UserHarbor. */
  readonly unknown: ReadonlyArray<Migration>
}

// COUNT(*) is a bigint: a string from pg, a number from the others.
const Count = Schema.Struct({ n: Integer })
const Applied = Schema.Struct({
  migration_id: Integer,
  name: Schema.String,
  created_at: Schema.Union(Schema.DateFromSelf, Schema.String, Schema.Null)
})

const known: Effect.Effect<ReadonlyArray<Migration>> = SqlMigrations.loader.pipe(
  // `fromRecord` reads no file: a failure here is a bug in the record, not a state of the database.
  Effect.orDie,
  Effect.map((all) => all.map(([id, name]) => ({ id, name })))
)

// A row the database returns in another shape is a store failure too (a table someone else created).
const storeFailure = (cause: SqlError | ParseResult.ParseError): StoreError => toStoreError("status")(cause)

/** The migrations status of the database in context. */
export const status: Effect.Effect<Status, StoreError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const table = SqlMigrations.table
  const exists = yield* sql.onDialectOrElse({
    sqlite: () => sql`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ${table}`,
    pg: () =>
      sql`SELECT COUNT(*) AS n FROM information_schema.tables
          WHERE table_name = ${table} AND table_schema = current_schema()`,
    orElse: () =>
      sql`SELECT COUNT(*) AS n FROM information_schema.tables
          WHERE table_name = ${table} AND table_schema = DATABASE()`
  }).pipe(Effect.flatMap(Schema.decodeUnknown(Schema.Array(Count))), Effect.mapError(storeFailure))
  const rows = exists[0] !== undefined && exists[0].n > 0
    ? yield* sql`SELECT migration_id, name, created_at FROM ${sql(table)} ORDER BY migration_id`.pipe(
      Effect.flatMap(Schema.decodeUnknown(Schema.Array(Applied))),
      Effect.mapError(storeFailure)
    )
    : []
  const applied = rows.map((row) => ({
    id: row.migration_id,
    name: row.name,
    appliedAt: row.created_at instanceof Date ? row.created_at.toISOString() : row.created_at
  }))
  const all = yield* known
  const recorded = new Set(applied.map(({ id }) => id))
  const ours = new Set(all.map(({ id }) => id))
  return {
    applied,
    pending: all.filter(({ id }) => !recorded.has(id)),
    unknown: applied.filter(({ id }) => !ours.has(id)).map(({ id, name }) => ({ id, name }))
  }
})

/** Fails unless the schema is exactly this version's: the store's queries assume it. */
export const requireCurrent: Effect.Effect<void, StoreError | Unavailable, SqlClient.SqlClient> = Effect.flatMap(
  status,
  ({ pending, unknown }) =>
    pending.length > 0
      ? Effect.fail(
        new Unavailable({
          message: `the database schema is not current (${pending.length} pending migration${
            pending.length === 1 ? "" : "s"
          }): run \`userharbor migrate\` first`
        })
      )
      : unknown.length > 0
      ? Effect.fail(
        new Unavailable({
          message: `the database was migrated by a newer UserHarbor (migration ${
            unknown.map(({ id, name }) => `${id}_${name}`).join(", ")
          }): use that version's CLI`
        })
      )
      : Effect.void
)

/** Runs the pending migrations; returns the ones it ran. */
export const migrate: Effect.Effect<ReadonlyArray<Migration>, StoreError, SqlClient.SqlClient> = Effect.map(
  SqlMigrations.run,
  (ran) => ran.map(([id, name]) => ({ id, name }))
)
