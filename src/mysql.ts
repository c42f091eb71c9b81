/**
 * The MariaDB / MySQL store, `userharbor/mysql` (needs `@effect/sql-mysql2`).
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as MysqlUserStore from "./MysqlUserStore.js"
