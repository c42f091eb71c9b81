/**
 * `SqlUserStore` on MariaDB or MySQL (`@effect/sql-mysql2`). It builds a pool, runs the migrations and provides
 * the store with the `SqlClient`. Only this module (the `userharbor/mysql` entry point) imports `mysql2`.
 *
 * A connection timeout is always set (5 seconds by default, through the URL's `connectTimeout` parameter unless the
 * URL sets one), so a dead database fails with `StoreError` in bounded time.
 *
 * @since 0.1.0
 */
import * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as EffectTypes from "./EffectTypes.js"
import { StoreError } from "./Errors.js"
import { urlOption, urlSetting, urlVariable } from "./internal/connectFailure.js"
import { clientLayer } from "./internal/mysqlClient.js"
import { fromConfig, withClient } from "./internal/sqlLayers.js"
import type * as SqlUserStore from "./SqlUserStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `mysql://user:password@host:port/database`; `Redacted`, because it usually holds a password. */
  readonly url: Redacted.Redacted
  /** The pool's size; 10 by default. */
  readonly maxConnections?: number | undefined
  /** How long to wait for a connection; 5 seconds by default. */
  readonly connectTimeout?: EffectTypes.DurationInput | undefined
}

/**
 * The MySQL client alone, with the connection timeout set.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options: Options
): Layer.Layer<MysqlClient.MysqlClient | SqlClient.SqlClient, StoreError> => clientLayer(options, urlOption)

/**
 * The store (`SqlUserStore.PortTags`: `UserStore` and the ports beside it) on MariaDB or MySQL, migrated, with its client.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<
  SqlUserStore.PortTags | MysqlClient.MysqlClient | SqlClient.SqlClient,
  StoreError
> => withClient(layerClient(options))

const layerNaming = (options: Options, setting: string) => withClient(clientLayer(options, setting))

/**
 * `layer` with its options from `Config`; by default the URL comes from `USERHARBOR_DATABASE_URL`, and a failure
 * to connect names that variable.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config?: Config.Config.Wrap<Options>
): Layer.Layer<
  SqlUserStore.PortTags | MysqlClient.MysqlClient | SqlClient.SqlClient,
  StoreError | EffectTypes.ConfigError
> =>
  fromConfig(config, { url: Config.redacted(urlVariable) }, { variable: urlVariable, setting: urlSetting }, layerNaming)
