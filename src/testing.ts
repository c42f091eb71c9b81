/**
 * @since 0.1.0
 */
export * as DeterministicRandom from "./DeterministicRandom.js"
export * as MemoryUserStore from "./MemoryUserStore.js"
export * as RecordingEmailSender from "./RecordingEmailSender.js"
export * as StoreConformance from "./StoreConformance.js"
export * as UserHarborTest from "./UserHarborTest.js"
