/**
 * The database connection of one CLI run. The driver module is imported only for the database in use, so an
 * installation with one driver runs every command on it; a missing driver is reported with the command that
 * installs it.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Predicate from "effect/Predicate"
import type { AccountAdminStore } from "../../AccountAdminStore.js"
import type { CounterStore } from "../../CounterStore.js"
import type { StoreError } from "../../Errors.js"
import type { FactorStore } from "../../FactorStore.js"
import type { OutboxStore } from "../../OutboxStore.js"
import * as SecureRandom from "../../SecureRandom.js"
import * as SqlUserStore from "../../SqlUserStore.js"
import * as UserHarborAdmin from "../../UserHarborAdmin.js"
import * as UserHarborConfig from "../../UserHarborConfig.js"
import type { UserStore } from "../../UserStore.js"
import { Unavailable, UsageProblem } from "./exit.js"
import * as Migrations from "./migrations.js"
import type { Target } from "./target.js"

const install = {
  Sqlite: { name: "the SQLite driver", packages: "@effect/experimental@^0.61 @effect/sql-sqlite-node@^0.53" },
  Pg: { name: "the PostgreSQL driver", packages: "@effect/experimental@^0.61 @effect/sql-pg@^0.53" },
  Mysql: { name: "the MariaDB/MySQL driver", packages: "@effect/sql-mysql2@^0.53" }
} as const

const load = <A>(target: Target, load: () => Promise<A>): Effect.Effect<A, Unavailable> =>
  Effect.tryPromise({
    try: load,
    catch: (cause) => {
      const { name, packages } = install[target._tag]
      const code = Predicate.hasProperty(cause, "code") && Predicate.isString(cause.code) ? ` (${cause.code})` : ""
      return new Unavailable({ message: `cannot load ${name}${code}; install it: npm install ${packages}` })
    }
  })

// A CLI run makes a few queries at a time: a small pool, named so a DBA can tell it from the app's.
const pool = { maxConnections: 2, applicationName: "userharbor-cli" } as const

/** The client alone, connected; failures name `target.setting`. */
export const client = (target: Target): Layer.Layer<SqlClient.SqlClient, StoreError | Unavailable> =>
  Layer.unwrapEffect(
    target._tag === "Sqlite"
      ? Effect.map(
        load(target, () => import("../sqliteClient.js")),
        (driver) => driver.clientLayer({ filename: target.filename }, target.setting)
      )
      : target._tag === "Pg"
      ? Effect.map(
        load(target, () => import("../pgPool.js")),
        (driver) => driver.layerNamed({ ...pool, url: target.url, connectTimeout: "5 seconds" }, target.setting)
      )
      : Effect.map(
        load(target, () => import("../mysqlClient.js")),
        (driver) => driver.clientLayer({ ...pool, url: target.url }, target.setting)
      )
  )

/**
 * The store's ports on a migrated database. The CLI never migrates as a side effect: a command other than
 * `migrate` on a schema with pending migrations stops and says to run `migrate`.
 */
export const store = (
  target: Target
): Layer.Layer<
  UserStore | CounterStore | OutboxStore | FactorStore | AccountAdminStore,
  StoreError | Unavailable
> =>
  SqlUserStore.layerWithoutMigrations.pipe(
    Layer.provide(Layer.effectDiscard(Migrations.requireCurrent)),
    Layer.provide(client(target))
  )

/**
 * The administration service on the store, configured from the same `USERHARBOR_*` variables as the app
 * (`USERHARBOR_SECRET_KEY` keys the throttling counters `clearThrottle` clears): its changes are recorded, with
 * their security events, exactly as the app's admin pages would record them.
 */
export const admin = (
  target: Target
): Layer.Layer<
  UserHarborAdmin.UserHarborAdmin | UserStore | AccountAdminStore,
  StoreError | Unavailable | UsageProblem
> =>
  UserHarborAdmin.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(
      store(target),
      SecureRandom.layer,
      UserHarborConfig.layerConfig().pipe(
        Layer.mapError((error) => new UsageProblem({ message: `the configuration is incomplete: ${String(error)}` }))
      )
    ))
  )
