/**
 * `SqlUserStore` on an embedded SQLite database (`@effect/sql-sqlite-node`, better-sqlite3): the default for one
 * machine. It builds the client, runs the migrations and provides both the store and the `SqlClient`, so the app
 * can join the store's transactions. This module imports neither `pg` nor `mysql2`.
 *
 * The file is opened in WAL mode (readers do not block the writer) with a busy timeout, so a second process
 * writing to the same file waits for the lock instead of failing at once. One client holds one connection:
 * statements from concurrent fibers run one at a time, and a transaction holds the connection until it ends.
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import { existsSync } from "node:fs"
import { dirname, resolve } from "node:path"
import type * as EffectTypes from "./EffectTypes.js"
import { StoreError } from "./Errors.js"
import { driverCode } from "./internal/connectFailure.js"
import { wholeMillis } from "./internal/durations.js"
import * as SessionReader from "./internal/sqliteSessionReader.js"
import { fromConfig, withClient, withFastFindSession } from "./internal/sqlLayers.js"
import type * as SqlUserStore from "./SqlUserStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** A file path, or `":memory:"` for a private in-memory database (gone when the layer's scope closes). */
  readonly filename: string
  /** How long a write waits for another connection's lock before failing; 5 seconds by default. */
  readonly busyTimeout?: EffectTypes.DurationInput | undefined
}

// What the user sets, for the failure line: the option, or the variable `layerConfig` reads by default.
const filenameOption = "the filename option"

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

const busyTimeoutMillis = (options: Options): number => wholeMillis(options.busyTimeout ?? "5 seconds")

/**
 * The SQLite client alone, in WAL mode with the busy timeout set. Failing to open the file (a missing directory,
 * no permission) is a `StoreError`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options: Options
): Layer.Layer<SqliteClient.SqliteClient | SqlClient.SqlClient, StoreError> => clientLayer(options, filenameOption)

const clientLayer = (
  options: Options,
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

// The read-only fast path on a connection of its own.
const withSessionReader = (options: Options) =>
  withFastFindSession((fallback) => SessionReader.make(options.filename, busyTimeoutMillis(options), fallback))

/**
 * The store (`UserStore`, `CounterStore`, `OutboxStore`, `FactorStore`, `SecurityEventStore`, `AccountAdminStore`) on a SQLite file, migrated, with its client.
 *
 * On a file, session look-ups outside a transaction take a fast path: the same query on a second, read-only
 * connection, prepared once (see docs/performance.md). Inside a transaction, and on `":memory:"`, every call goes
 * through the client.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<
  SqlUserStore.PortTags | SqliteClient.SqliteClient | SqlClient.SqlClient,
  StoreError
> => layerNaming(options, filenameOption)

const layerNaming = (
  options: Options,
  setting: string
): Layer.Layer<
  SqlUserStore.PortTags | SqliteClient.SqliteClient | SqlClient.SqlClient,
  StoreError
> => {
  const store = withClient(clientLayer(options, setting))
  return SessionReader.isSharedFile(options.filename) ? Layer.provideMerge(withSessionReader(options), store) : store
}

/**
 * `layer` with its options from `Config`; by default the file name comes from `USERHARBOR_SQLITE_FILENAME`, and a
 * failure to open the file names that variable.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config?: Config.Config.Wrap<Options>
): Layer.Layer<
  SqlUserStore.PortTags | SqliteClient.SqliteClient | SqlClient.SqlClient,
  StoreError | EffectTypes.ConfigError
> =>
  fromConfig(config, { filename: Config.string(filenameVariable) }, {
    variable: filenameVariable,
    setting: "the filename setting"
  }, layerNaming)

const filenameVariable = "USERHARBOR_SQLITE_FILENAME"
