/**
 * The SQL store, independent of the driver: bring a `SqlClient` (or use `userharbor/sqlite`, `userharbor/pg`,
 * `userharbor/mysql`).
 *
 * @since 0.1.0
 */

/**
 * Works with any `UserStore`, so it is in the core entry now: import it from `userharbor`.
 *
 * @since 0.1.0
 * @deprecated Use `PurgeSchedule` from `userharbor`; this alias is the same module.
 */
export * as PurgeSchedule from "./PurgeSchedule.js"
/**
 * @since 0.1.0
 */
export * as SqlMigrations from "./SqlMigrations.js"
/**
 * @since 0.1.0
 */
export * as SqlUserStore from "./SqlUserStore.js"
