import type * as SqlClient from "@effect/sql/SqlClient"
import * as Layer from "effect/Layer"
import { StoreError } from "../Errors.js"
import * as SqlUserStore from "../SqlUserStore.js"
import type { UserStore } from "../UserStore.js"

/**
 * The store on a client layer that the convenience modules build. The client stays in the output, so the app can
 * run its own queries, and its own transactions that the store joins, on the same connection or pool. Building
 * the client fails with a `StoreError` that keeps the driver's error only as its hidden cause, never in the
 * message (the driver's message can name the host, the user or the database).
 */
export const withClient = <C, E>(
  client: Layer.Layer<C | SqlClient.SqlClient, E>
): Layer.Layer<UserStore | C | SqlClient.SqlClient, StoreError> =>
  SqlUserStore.layer.pipe(
    Layer.provideMerge(Layer.mapError(client, (cause) => new StoreError({ operation: "connect", cause })))
  )
