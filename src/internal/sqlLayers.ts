import type * as SqlClient from "@effect/sql/SqlClient"
import * as Layer from "effect/Layer"
import type { CounterStore } from "../CounterStore.js"
import type { StoreError } from "../Errors.js"
import type { FactorStore } from "../FactorStore.js"
import type { OutboxStore } from "../OutboxStore.js"
import * as SqlUserStore from "../SqlUserStore.js"
import type { UserStore } from "../UserStore.js"

/**
 * The store on a client layer that the convenience modules build. The client stays in the output, so the app can
 * run its own queries, and its own transactions that the store joins, on the same connection or pool. The client
 * layer already fails with a `StoreError` whose reason says what to fix; the driver's error stays hidden in it
 * (its message can name the host, the user or the database).
 */
export const withClient = <C>(
  client: Layer.Layer<C | SqlClient.SqlClient, StoreError>
): Layer.Layer<UserStore | CounterStore | OutboxStore | FactorStore | C | SqlClient.SqlClient, StoreError> =>
  SqlUserStore.layer.pipe(Layer.provideMerge(client))
