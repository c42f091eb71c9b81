/**
 * The whole library wired for tests in one layer: the memory store (its ports), the security-event feed, the recording sender, deterministic random
 * bytes and argon2id with tiny parameters. It is for tests only (an app's tests too): the hashing parameters give
 * no protection and the "random" tokens are predictable.
 *
 * @since 0.1.0
 */
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Argon2Hasher from "./Argon2Hasher.js"
import type { CounterStore } from "./CounterStore.js"
import * as DeterministicRandom from "./DeterministicRandom.js"
import type { EmailSender } from "./EmailSender.js"
import * as MemoryUserStore from "./MemoryUserStore.js"
import type { OutboxStore } from "./OutboxStore.js"
import type * as PasswordHasher from "./PasswordHasher.js"
import * as RecordingEmailSender from "./RecordingEmailSender.js"
import type { SecureRandom } from "./SecureRandom.js"
import * as SecurityEvents from "./SecurityEvents.js"
import * as UserHarbor from "./UserHarbor.js"
import * as UserHarborConfig from "./UserHarborConfig.js"
import type { UserStore } from "./UserStore.js"

/**
 * A secret key for tests (never use it elsewhere: it is public).
 *
 * @since 0.1.0
 * @category constants
 */
export const testSecretKey = Redacted.make("userharbor-test-secret-key-0123456789abcdef")

/**
 * Every service the test kit provides.
 *
 * @since 0.1.0
 * @category models
 */
export type Services =
  | UserHarbor.UserHarbor
  | UserStore
  | CounterStore
  | OutboxStore
  | MemoryUserStore.MemoryUserStore
  | EmailSender
  | RecordingEmailSender.RecordingEmailSender
  | SecureRandom
  | SecurityEvents.SecurityEvents
  | PasswordHasher.PasswordHasher
  | UserHarborConfig.UserHarborConfig

/**
 * What the test kit provides around any store: everything in `Services` except the memory store's inspector.
 *
 * @since 0.1.0
 * @category models
 */
export type StoreServices = Exclude<Services, MemoryUserStore.MemoryUserStore>

// Every port but the service itself, shared by the inline and the outbox kits.
const ports = <ROut, E, RIn>(
  store: Layer.Layer<ROut | UserStore | CounterStore | OutboxStore, E, RIn>,
  options: Partial<UserHarborConfig.Options>,
  hasher: Layer.Layer<PasswordHasher.PasswordHasher> = Argon2Hasher.layerInsecureForTesting
) =>
  Layer.mergeAll(
    store,
    RecordingEmailSender.layer,
    DeterministicRandom.layer(),
    SecurityEvents.layer(),
    hasher,
    UserHarborConfig.layer({ secretKey: testSecretKey, ...options }).pipe(Layer.orDie)
  )

/**
 * The test kit around another store (a SQL store, say) that provides the three required ports (`UserStore`, `CounterStore`,
 * `OutboxStore`), so the same behaviour tests run on every backend.
 * Whatever else the store layer provides (an inspector, a client) is kept in the output. `hasher` replaces the
 * insecure test hasher (to test hash upgrades or a bounded hasher, say).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithStore = <ROut, E, RIn>(
  store: Layer.Layer<ROut | UserStore | CounterStore | OutboxStore, E, RIn>,
  options: Partial<UserHarborConfig.Options> = {},
  hasher: Layer.Layer<PasswordHasher.PasswordHasher> = Argon2Hasher.layerInsecureForTesting
): Layer.Layer<ROut | StoreServices, E, RIn> => UserHarbor.layer.pipe(Layer.provideMerge(ports(store, options, hasher)))

/**
 * The test kit in outbox mode around any store: `UserHarbor.layerOutbox` (both tags) instead of the inline
 * service, and no worker, so a test decides when messages go out (`OutboxWorker.make(...).drain`, or
 * `OutboxWorker.layer`). The recording sender is there for the worker.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOutboxWithStore = <ROut, E, RIn>(
  store: Layer.Layer<ROut | UserStore | CounterStore | OutboxStore, E, RIn>,
  options: Partial<UserHarborConfig.Options> = {}
): Layer.Layer<ROut | StoreServices | UserHarbor.UserHarborOutbox, E, RIn> =>
  UserHarbor.layerOutbox.pipe(Layer.provideMerge(ports(store, options)))

/**
 * The test kit with other settings; the secret key defaults to `testSecretKey`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: Partial<UserHarborConfig.Options> = {}): Layer.Layer<Services> =>
  layerWithStore(MemoryUserStore.layer, options)

/**
 * The test kit with the default settings.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert"
 * import { Effect, Option } from "effect"
 * import { UserHarbor } from "userharbor"
 * import { RecordingEmailSender, UserHarborTest } from "userharbor/testing"
 *
 * const program = Effect.gen(function*() {
 *   const harbor = yield* UserHarbor.UserHarbor
 *   const mail = yield* RecordingEmailSender.RecordingEmailSender
 *   yield* harbor.register({ username: "jane", email: "jane@example.com", password: "StrongPassword123!" })
 *   const token = yield* mail.lastToken("VerificationEmail", "jane@example.com")
 *   yield* harbor.verifyEmail(Option.getOrThrow(token))
 *   const session = yield* harbor.login({ username: "jane", password: "StrongPassword123!" })
 *   return yield* harbor.getCurrentUser(session.token)
 * })
 *
 * const user = await Effect.runPromise(program.pipe(Effect.provide(UserHarborTest.layer)))
 * strictEqual(user.verified, true)
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Services> = layerWith()
