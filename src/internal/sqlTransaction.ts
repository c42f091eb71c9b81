/**
 * Whether a fiber runs inside an `@effect/sql` transaction: the one place that knows how `sql.withTransaction`
 * marks its fibers (in Effect 3, with the connection under `SqlClient.TransactionConnection` in the fiber's
 * context). `@effect/sql` 0.52 has one such tag for every client, so this is "inside this client's transaction"
 * for an app with one client, as ours are built; an Effect 4 port changes only this module.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"

const none = () => undefined

/** Whether a fiber with this context runs inside a transaction (it holds the transaction's connection). */
export const inTransaction = (context: Context.Context<never>): boolean =>
  Context.getOrElse(context, SqlClient.TransactionConnection, none) !== undefined
