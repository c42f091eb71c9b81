/**
 * The options every command that touches the database takes, and how a command gets its connection.
 */
import * as Options from "@effect/cli/Options"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type { AccountAdminStore } from "../../AccountAdminStore.js"
import type { CounterStore } from "../../CounterStore.js"
import type { StoreError } from "../../Errors.js"
import type { FactorStore } from "../../FactorStore.js"
import type { OutboxStore } from "../../OutboxStore.js"
import type { UserHarborAdmin } from "../../UserHarborAdmin.js"
import type { UserStore } from "../../UserStore.js"
import { urlVariable } from "../connectFailure.js"
import * as Database from "./database.js"
import type { Unavailable, UsageProblem } from "./exit.js"
import * as Target from "./target.js"

export const url = Options.redacted("url").pipe(
  Options.withPseudoName("URL"),
  Options.optional,
  Options.withDescription(
    `The database: postgres://…, mysql://… or sqlite:PATH. Default: ${urlVariable}, else ${Target.sqliteVariable}. ` +
      "A URL on the command line is visible to other users of the machine (ps): prefer the variable."
  )
)

export const json = Options.boolean("json").pipe(
  Options.withDescription("Print the result as one JSON document on stdout (messages stay on stderr).")
)

/** `self` on the database's client alone (for `migrate` and `status`). */
export const withClient = <A, E, R>(
  url: Option.Option<Redacted.Redacted>,
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | StoreError | Unavailable | UsageProblem, Exclude<R, SqlClient.SqlClient>> =>
  Effect.flatMap(Target.resolve(url), (target) => Effect.provide(self, Database.client(target)))

/** `self` on the store's ports, once the schema is known to be current. */
export const withStore = <A, E, R>(
  url: Option.Option<Redacted.Redacted>,
  self: Effect.Effect<A, E, R>
): Effect.Effect<
  A,
  E | StoreError | Unavailable | UsageProblem,
  Exclude<R, UserStore | CounterStore | OutboxStore | FactorStore | AccountAdminStore>
> => Effect.flatMap(Target.resolve(url), (target) => Effect.provide(self, Database.store(target)))

/** `self` with the administration service (and the store under it). */
export const withAdmin = <A, E, R>(
  url: Option.Option<Redacted.Redacted>,
  self: Effect.Effect<A, E, R>
): Effect.Effect<
  A,
  E | StoreError | Unavailable | UsageProblem,
  Exclude<R, UserHarborAdmin | UserStore | AccountAdminStore>
> => Effect.flatMap(Target.resolve(url), (target) => Effect.provide(self, Database.admin(target)))
