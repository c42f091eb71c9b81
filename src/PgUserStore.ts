/**
 * `SqlUserStore` on PostgreSQL (`@effect/sql-pg`): for many app servers sharing one database. It builds a pool,
 * runs the migrations and provides the store with the `SqlClient`, so the app's own queries and transactions
 * share the pool. Only this module (the `userharbor/pg` entry point) imports `pg`.
 *
 * A connection timeout is always set (5 seconds by default): with the database down or unreachable, building the
 * layer and every later operation fail with `StoreError` in bounded time instead of waiting for TCP to give up. A
 * server that stalls on open connections is bounded only with `queryTimeout` (off by default, see there).
 *
 * @since 0.1.0
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as EffectTypes from "./EffectTypes.js"
import type { StoreError } from "./Errors.js"
import { urlOption, urlSetting, urlVariable } from "./internal/connectFailure.js"
import * as PgPool from "./internal/pgPool.js"
import * as PgSessionReader from "./internal/pgSessionReader.js"
import { fromConfig, withClient, withFastFindSession } from "./internal/sqlLayers.js"
import type * as SqlUserStore from "./SqlUserStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `postgres://user:password@host:port/database`; `Redacted`, because it usually holds a password. */
  readonly url: Redacted.Redacted
  /** The pool's size; 10 by default. */
  readonly maxConnections?: number | undefined
  /** How long to wait for a connection; 5 seconds by default. */
  readonly connectTimeout?: EffectTypes.DurationInput | undefined
  /**
   * How long a query may go unanswered before it fails with `StoreError`; none by default (zero or infinite: none).
   * It bounds what `connectTimeout` does not: a server that stops answering on connections already open (a stalled
   * machine or network), where every request would otherwise wait as long as the stall lasts. Set it to a few
   * times your slowest query (10 to 30 seconds is typical) when requests must fail rather than wait.
   *
   * It is `pg`'s client-side `query_timeout`, on every query of the pool: the store's, the session fast path's,
   * the app's own through the `SqlClient`, and the migrations that `layer` runs at start-up. That is why it is off
   * by default: a migration may legitimately take long (an index built on a big table), and `@effect/sql-pg` offers
   * no way to lift the timeout for some queries only. With it set, migrate as a deploy step before the apps start
   * (`npx userharbor migrate`, which sets no query timeout): the apps then find nothing pending.
   *
   * A timed-out query is abandoned, not cancelled: the server may still run it to the end, so a failed write's
   * outcome is unknown until read back (a transaction stays all or nothing). Its connection is closed rather than
   * reused (the server rolls back an open transaction on it); the pool opens new ones as the server answers again.
   */
  readonly queryTimeout?: EffectTypes.DurationInput | undefined
  readonly applicationName?: string | undefined
}

/**
 * The PostgreSQL client alone, with the connection timeout set.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options: Options
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, EffectTypes.ConfigError | SqlError> =>
  PgPool.layerClient(poolOptions(options))

const poolOptions = (options: Options): PgPool.PoolOptions => ({
  url: options.url,
  maxConnections: options.maxConnections ?? 10,
  connectTimeout: options.connectTimeout ?? "5 seconds",
  queryTimeout: options.queryTimeout,
  applicationName: options.applicationName ?? "userharbor"
})

// The fast path on the client's own pool.
const withSessionReader = withFastFindSession((fallback) =>
  Effect.map(PgPool.SessionPool, (pool) => PgSessionReader.make(pool, fallback))
)

/**
 * The store (`SqlUserStore.PortTags`: `UserStore` and the ports beside it) on PostgreSQL, migrated, with its client.
 *
 * Session look-ups outside a transaction take a fast path: the same query straight on the client's pool, without
 * the `SqlClient` layer in between (see docs/performance.md). Inside a transaction they go through the client.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<
  SqlUserStore.PortTags | PgClient.PgClient | SqlClient.SqlClient,
  StoreError
> => layerNaming(options, urlOption)

const layerNaming = (
  options: Options,
  setting: string
): Layer.Layer<
  SqlUserStore.PortTags | PgClient.PgClient | SqlClient.SqlClient,
  StoreError
> => Layer.provideMerge(withSessionReader, withClient(PgPool.layerNamed(poolOptions(options), setting)))

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
  SqlUserStore.PortTags | PgClient.PgClient | SqlClient.SqlClient,
  StoreError | EffectTypes.ConfigError
> =>
  fromConfig(config, { url: Config.redacted(urlVariable) }, { variable: urlVariable, setting: urlSetting }, layerNaming)
