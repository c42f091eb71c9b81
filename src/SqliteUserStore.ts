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
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import { StoreError } from "./Errors.js"
import * as SessionReader from "./internal/sqliteSessionReader.js"
import { withClient } from "./internal/sqlLayers.js"
import { UserStore } from "./UserStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** A file path, or `":memory:"` for a private in-memory database (gone when the layer's scope closes). */
  readonly filename: string
  /** How long a write waits for another connection's lock before failing; 5 seconds by default. */
  readonly busyTimeout?: Duration.DurationInput | undefined
}

const busyTimeoutMillis = (options: Options): number =>
  Math.max(0, Math.round(Duration.toMillis(options.busyTimeout ?? "5 seconds")))

/**
 * The SQLite client alone, in WAL mode with the busy timeout set. Failing to open the file (a missing directory,
 * no permission) is a `StoreError`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options: Options
): Layer.Layer<SqliteClient.SqliteClient | SqlClient.SqlClient, StoreError> =>
  Layer.scopedContext(
    SqliteClient.make({ filename: options.filename }).pipe(
      // better-sqlite3 opens the file synchronously inside `make` and throws, so the failure arrives as a defect.
      Effect.catchSomeDefect((defect) =>
        Predicate.isError(defect)
          ? Option.some(Effect.fail(new StoreError({ operation: "connect", cause: defect })))
          : Option.none()
      ),
      Effect.tap((client) => {
        // PRAGMA takes no bind parameters; the value is an integer we computed.
        return client.unsafe(`PRAGMA busy_timeout = ${busyTimeoutMillis(options)}`).pipe(
          Effect.catchTag("SqlError", (cause) => Effect.fail(new StoreError({ operation: "connect", cause })))
        )
      }),
      Effect.map((client) =>
        Context.make(SqliteClient.SqliteClient, client).pipe(Context.add(SqlClient.SqlClient, client))
      )
    )
  ).pipe(Layer.provide(Reactivity.layer))

// Replaces the store's `findSession` with the read-only fast path; built after the store, so after migrations.
const withSessionReader = (options: Options): Layer.Layer<UserStore, StoreError, UserStore> =>
  Layer.scoped(
    UserStore,
    Effect.gen(function*() {
      const store = yield* UserStore
      const findSession = yield* SessionReader.make(options.filename, busyTimeoutMillis(options), store.findSession)
      return UserStore.of({ ...store, findSession })
    })
  )

/**
 * The store on a SQLite file, migrated, with its client.
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
): Layer.Layer<UserStore | SqliteClient.SqliteClient | SqlClient.SqlClient, StoreError> => {
  const store = withClient(layerClient(options))
  return SessionReader.isSharedFile(options.filename) ? Layer.provideMerge(withSessionReader(options), store) : store
}

/**
 * `layer` with its options from `Config`; by default the file name comes from `USERHARBOR_SQLITE_FILENAME`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options> = { filename: Config.string("USERHARBOR_SQLITE_FILENAME") }
): Layer.Layer<UserStore | SqliteClient.SqliteClient | SqlClient.SqlClient, StoreError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))
