/**
 * @since 0.1.0
 */
export * as SqliteUserStore from "./SqliteUserStore.js"
