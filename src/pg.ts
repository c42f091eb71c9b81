/**
 * The PostgreSQL store, `userharbor/pg` (needs `@effect/sql-pg`).
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as PgUserStore from "./PgUserStore.js"
/**
 * @since 0.3.0
 */
export * as PgSessionInvalidation from "./PgSessionInvalidation.js"
