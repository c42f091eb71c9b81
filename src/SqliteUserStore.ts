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
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import * as Layer from "effect/Layer"
import type * as EffectTypes from "./EffectTypes.js"
import type { StoreError } from "./Errors.js"
import { busyTimeoutMillis, clientLayer } from "./internal/sqliteClient.js"
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

// The read-only fast path on a connection of its own.
const withSessionReader = (options: Options) =>
  withFastFindSession((fallback) => SessionReader.make(options.filename, busyTimeoutMillis(options), fallback))

/**
 * The store (`SqlUserStore.PortTags`: `UserStore` and the ports beside it) on a SQLite file, migrated, with its client.
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
