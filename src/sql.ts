/**
 * The SQL store, independent of the driver: bring a `SqlClient` (or use `userharbor/sqlite`, `userharbor/pg`,
 * `userharbor/mysql`).
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
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
