/**
 * The embedded SQLite store, `userharbor/sqlite` (needs `@effect/sql-sqlite-node`).
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as SqliteUserStore from "./SqliteUserStore.js"
