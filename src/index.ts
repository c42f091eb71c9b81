/**
 * The core entry point, `userharbor`: the account service, its ports (the stores of accounts, counters and the
 * outbox, the email sender, the hasher, the random source), the errors, the configuration, the console sender, the
 * outbox worker, the purge schedule and the argon2id hasher (whose native addon loads only when an app builds it).
 *
 * @since 0.1.0
 */

/**
 * @since 0.3.0
 */
export * as AccountAdminStore from "./AccountAdminStore.js"
/**
 * @since 0.3.0
 */
export * as Argon2Hasher from "./Argon2Hasher.js"
/**
 * @since 0.1.0
 */
export * as ConsoleEmailSender from "./ConsoleEmailSender.js"
/**
 * @since 0.3.0
 */
export * as CounterStore from "./CounterStore.js"
/**
 * @since 0.3.0
 */
export * as EffectTypes from "./EffectTypes.js"
/**
 * @since 0.1.0
 */
export * as Email from "./Email.js"
/**
 * @since 0.1.0
 */
export * as EmailSender from "./EmailSender.js"
/**
 * @since 0.1.0
 */
export * as EmailTemplates from "./EmailTemplates.js"
/**
 * @since 0.1.0
 */
export * as Errors from "./Errors.js"
/**
 * @since 0.3.0
 */
export * as FactorStore from "./FactorStore.js"
/**
 * @since 0.1.0
 */
export * as Metrics from "./Metrics.js"
/**
 * @since 0.1.0
 */
export * as OutboxWorker from "./OutboxWorker.js"
/**
 * @since 0.3.0
 */
export * as OutboxStore from "./OutboxStore.js"
/**
 * @since 0.3.0
 */
export * as Passkey from "./Passkey.js"
/**
 * @since 0.1.0
 */
export * as PasswordHasher from "./PasswordHasher.js"
/**
 * @since 0.1.0
 */
export * as PasswordPolicy from "./PasswordPolicy.js"
/**
 * @since 0.3.0
 */
export * as PurgeSchedule from "./PurgeSchedule.js"
/**
 * @since 0.1.0
 */
export * as SecureRandom from "./SecureRandom.js"
/**
 * @since 0.3.0
 */
export * as SecurityEvent from "./SecurityEvent.js"
/**
 * @since 0.3.0
 */
export * as SecurityEvents from "./SecurityEvents.js"
/**
 * @since 0.3.0
 */
export * as SecurityEventStore from "./SecurityEventStore.js"
/**
 * @since 0.1.0
 */
export * as SessionCache from "./SessionCache.js"
/**
 * @since 0.3.0
 */
export * as SessionInvalidation from "./SessionInvalidation.js"
/**
 * @since 0.1.0
 */
export * as User from "./User.js"
/**
 * @since 0.1.0
 */
export * as UserHarbor from "./UserHarbor.js"
/**
 * @since 0.1.0
 */
export * as UserHarborAdmin from "./UserHarborAdmin.js"
/**
 * @since 0.3.0
 */
export * as UserHarborConfig from "./UserHarborConfig.js"
/**
 * @since 0.1.0
 */
export * as Username from "./Username.js"
/**
 * @since 0.1.0
 */
export * as UserStore from "./UserStore.js"
