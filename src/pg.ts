/**
 * @since 0.1.0
 */
export * as PgUserStore from "./PgUserStore.js"
