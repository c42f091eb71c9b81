/**
 * @since 0.1.0
 */
export * as MysqlUserStore from "./MysqlUserStore.js"
