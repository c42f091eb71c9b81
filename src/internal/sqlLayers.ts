import type * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { AccountAdminStore } from "../AccountAdminStore.js"
import type { CounterStore } from "../CounterStore.js"
import type { StoreError } from "../Errors.js"
import type { FactorStore } from "../FactorStore.js"
import type { OutboxStore } from "../OutboxStore.js"
import * as SqlUserStore from "../SqlUserStore.js"
import { UserStore, type UserStoreService } from "../UserStore.js"

/**
 * The store on a client layer that the convenience modules build. The client stays in the output, so the app can
 * run its own queries, and its own transactions that the store joins, on the same connection or pool. The client
 * layer already fails with a `StoreError` whose reason says what to fix; the driver's error stays hidden in it
 * (its message can name the host, the user or the database).
 */
export const withClient = <C>(
  client: Layer.Layer<C | SqlClient.SqlClient, StoreError>
): Layer.Layer<
  UserStore | CounterStore | OutboxStore | FactorStore | AccountAdminStore | C | SqlClient.SqlClient,
  StoreError
> => SqlUserStore.layer.pipe(Layer.provideMerge(client))

/**
 * A driver module's `layerConfig`: its options from `Config` (by default `fallback`, read from the variable that a
 * start-up failure then names; otherwise the app's own config, named as `setting`).
 */
export const fromConfig = <O, A, E>(
  config: Config.Config.Wrap<O> | undefined,
  fallback: Config.Config.Wrap<O>,
  names: { readonly variable: string; readonly setting: string },
  build: (options: O, setting: string) => Layer.Layer<A, E>
): Layer.Layer<A, E | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(
    Config.unwrap(config ?? fallback),
    (options) => build(options, config === undefined ? names.variable : names.setting)
  ))

/**
 * Replaces the store's `findSession` with a driver's fast path, built from the store's own `findSession` (the
 * fallback for look-ups the fast path does not take). Built after the store, so after its migrations.
 */
export const withFastFindSession = <E, R>(
  fast: (fallback: UserStoreService["findSession"]) => Effect.Effect<UserStoreService["findSession"], E, R>
): Layer.Layer<UserStore, E, UserStore | Exclude<R, Scope.Scope>> =>
  Layer.scoped(
    UserStore,
    Effect.gen(function*() {
      const store = yield* UserStore
      return UserStore.of({ ...store, findSession: yield* fast(store.findSession) })
    })
  )
