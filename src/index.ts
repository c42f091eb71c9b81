/**
 * @since 0.1.0
 */
export * as ConsoleEmailSender from "./ConsoleEmailSender.js"
export * as Email from "./Email.js"
export * as EmailSender from "./EmailSender.js"
export * as EmailTemplates from "./EmailTemplates.js"
export * as Errors from "./Errors.js"
export * as Metrics from "./Metrics.js"
export * as OutboxWorker from "./OutboxWorker.js"
export * as PasswordHasher from "./PasswordHasher.js"
export * as PasswordPolicy from "./PasswordPolicy.js"
export * as SecureRandom from "./SecureRandom.js"
export * as SessionCache from "./SessionCache.js"
export * as User from "./User.js"
export * as UserHarbor from "./UserHarbor.js"
export * as UserHarborConfig from "./UserHarborConfig.js"
export * as Username from "./Username.js"
export * as UserStore from "./UserStore.js"
