/**
 * The test kit, `userharbor/testing`: the memory store, the recording email sender, deterministic random
 * bytes, the whole library wired for tests (`UserHarborTest`) and the store conformance suite.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as DeterministicRandom from "./DeterministicRandom.js"
/**
 * @since 0.1.0
 */
export * as MemoryUserStore from "./MemoryUserStore.js"
/**
 * @since 0.1.0
 */
export * as RecordingEmailSender from "./RecordingEmailSender.js"
/**
 * @since 0.1.0
 */
export * as StoreConformance from "./StoreConformance.js"
/**
 * @since 0.1.0
 */
export * as UserHarborTest from "./UserHarborTest.js"
