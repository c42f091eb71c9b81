/**
 * A connection to Redis (`ioredis`), shared by the Redis pieces of `userharbor/redis` (`RedisCounterStore`) and
 * open to the app's own commands. Only the `userharbor/redis` entry point imports `ioredis`.
 *
 * What it does when Redis is unreachable, by design:
 * - Building the layer fails with a `StoreError` (`operation: "connect"`) whose reason says what to fix and names
 *   the setting, never the URL (it can hold a password).
 * - Later, while the connection is down, every command fails at once with a `StoreError` naming its operation:
 *   nothing is queued to run after the reconnection, and a command whose answer was lost is not sent again (its
 *   caller already has its error). A connected server that does not answer fails each command after
 *   `commandTimeout`.
 * - The client reconnects in the background (after 50 ms, growing to every 2 seconds), and commands succeed again
 *   as soon as it is back: the app needs no restart.
 *
 * @since 0.3.0
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import type * as EffectTypes from "./EffectTypes.js"
import type { StoreError } from "./Errors.js"
import { urlOption, urlSetting } from "./internal/connectFailure.js"
import { connect, type Settings } from "./internal/redis.js"

/**
 * @since 0.3.0
 * @category models
 */
export interface Options {
  /**
   * `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS; `Redacted`, because it can hold a
   * password.
   */
  readonly url: Redacted.Redacted
  /** How long to wait for a connection, at start and on each reconnection; 5 seconds by default. */
  readonly connectTimeout?: EffectTypes.DurationInput | undefined
  /**
   * How long a command waits for its answer before failing with `StoreError`; 2 seconds by default. It bounds a
   * login's wait on a server that accepts connections but does not answer.
   */
  readonly commandTimeout?: EffectTypes.DurationInput | undefined
  /** The name the connections show in `CLIENT LIST`; `"userharbor"` by default. */
  readonly connectionName?: string | undefined
}

/**
 * @since 0.3.0
 * @category models
 */
export interface RedisClientService {
  /** The command connection. The app may send its own commands on it. */
  readonly redis: Redis
  /**
   * Another connection with the same settings, connected, and closed with the scope: for `SUBSCRIBE`, which takes
   * a connection over.
   */
  readonly duplicate: Effect.Effect<Redis, StoreError, Scope.Scope>
}

/**
 * @since 0.3.0
 * @category tags
 */
export class RedisClient extends Context.Tag("userharbor/RedisClient")<RedisClient, RedisClientService>() {}

/**
 * The name of the environment variable `layerConfig` reads the URL from by default.
 *
 * @since 0.3.0
 * @category constants
 */
export const urlVariable = "USERHARBOR_REDIS_URL"

const settingsOf = (options: Options): Settings => ({
  url: options.url,
  connectTimeout: options.connectTimeout ?? "5 seconds",
  commandTimeout: options.commandTimeout ?? "2 seconds",
  connectionName: options.connectionName ?? "userharbor"
})

// `setting` names what the user controls in the start-up failure: the option, the default variable or the app's
// own `Config`.
const layerNaming = (options: Options, setting: string): Layer.Layer<RedisClient, StoreError> =>
  Layer.scoped(
    RedisClient,
    Effect.map(connect(settingsOf(options), setting), (redis) =>
      RedisClient.of({ redis, duplicate: connect(settingsOf(options), setting) }))
  )

/**
 * A connected client, closed (`QUIT`) when the layer's scope closes. It fails with a `StoreError` when Redis
 * cannot be reached or refuses the credentials.
 *
 * @since 0.3.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<RedisClient, StoreError> => layerNaming(options, urlOption)

/**
 * `layer` with its options from `Config`; by default the URL comes from `USERHARBOR_REDIS_URL`, and a failure to
 * connect names that variable.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerConfig = (
  config?: Config.Config.Wrap<Options>
): Layer.Layer<RedisClient, StoreError | EffectTypes.ConfigError> =>
  Layer.unwrapEffect(Effect.map(
    Config.unwrap(config ?? { url: Config.redacted(urlVariable) }),
    (options) => layerNaming(options, config === undefined ? urlVariable : urlSetting)
  ))
