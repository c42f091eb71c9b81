/**
 * The SQLite client of `SqliteUserStore` with the failure line naming what the user sets (`setting`): an option,
 * `USERHARBOR_SQLITE_FILENAME`, or the CLI's `--url`. Shared by the store module and the operator CLI.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import { existsSync } from "node:fs"
import { dirname, resolve } from "node:path"
import type * as EffectTypes from "../EffectTypes.js"
import { StoreError } from "../Errors.js"
import { driverCode } from "./connectFailure.js"
import { wholeMillis } from "./durations.js"

export interface ClientOptions {
  readonly filename: string
  readonly busyTimeout?: EffectTypes.DurationInput | undefined
}

/** One secret-free line on why the file could not be opened, from the file system and the driver's error code. */
const openFailure = (filename: string, setting: string) => (cause: unknown): StoreError => {
  const file = JSON.stringify(filename)
  const directory = dirname(resolve(filename))
  const found = driverCode(cause)
  const reason = !existsSync(directory)
    // better-sqlite3 says so only in its message (a TypeError without a code), so look for ourselves.
    ? `cannot open ${file}: directory ${
      JSON.stringify(dirname(filename))
    } does not exist; create it or set ${setting} to a file in an existing directory`
    : found?.code === "SQLITE_CANTOPEN"
    ? `cannot open ${file} (SQLITE_CANTOPEN: no permission, or a part of the path is not a directory); fix ${setting} or the permissions`
    : found?.code === "SQLITE_NOTADB"
    ? `${file} is not a SQLite database (SQLITE_NOTADB); set ${setting} to another file`
    : `cannot use ${file}${found === undefined ? "" : ` (${found.code})`}; check ${setting}`
  return new StoreError({ operation: "connect", reason, cause })
}

export const busyTimeoutMillis = (options: ClientOptions): number => wholeMillis(options.busyTimeout ?? "5 seconds")

export const clientLayer = (
  options: ClientOptions,
  setting: string
): Layer.Layer<SqliteClient.SqliteClient | SqlClient.SqlClient, StoreError> =>
  Layer.scopedContext(
    SqliteClient.make({ filename: options.filename }).pipe(
      // better-sqlite3 opens the file synchronously inside `make` and throws, so the failure arrives as a defect.
      Effect.catchSomeDefect((defect) =>
        Predicate.isError(defect)
          ? Option.some(Effect.fail(openFailure(options.filename, setting)(defect)))
          : Option.none()
      ),
      Effect.tap((client) => {
        // PRAGMA takes no bind parameters; the value is an integer we computed.
        return client.unsafe(`PRAGMA busy_timeout = ${busyTimeoutMillis(options)}`).pipe(
          Effect.mapError(openFailure(options.filename, setting))
        )
      }),
      Effect.map((client) =>
        Context.make(SqliteClient.SqliteClient, client).pipe(Context.add(SqlClient.SqlClient, client))
      )
    )
  ).pipe(Layer.provide(Reactivity.layer))
