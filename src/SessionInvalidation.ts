/**
 * The port through which the instances of an app tell each other that sessions ended, so that every instance's
 * `SessionCache` drops them at once rather than within its `ttl`. `SessionCache.layerShared` publishes every
 * revocation made through its store and applies everyone's, its own included.
 *
 * The contract (checked by the cases of `SessionInvalidationConformance` in the tests):
 * - `publish` returns once the message is handed to the channel; every subscriber that is `Connected` at that
 *   moment receives it, the publisher's own subscribers included.
 * - Messages from one publisher arrive in the order it published them (each `publish` awaited before the next).
 * - `subscribe` starts with `Disconnected` until the channel is live, then `Connected`. After a loss it emits
 *   `Disconnected`, retries on its own, and emits `Connected` again once it listens anew: messages published in
 *   between may be lost, so a subscriber must treat `Connected` as "forget everything you learnt before". The
 *   stream itself never fails.
 * - Messages carry only token hashes and user ids, never raw tokens. They are visible to whoever can listen on
 *   the channel (for PostgreSQL, any role that can connect to the database), who could read the session table
 *   anyway.
 *
 * Implementations: `layerMemory` (one process, and tests), `PgSessionInvalidation` (`userharbor/pg`, over
 * `LISTEN/NOTIFY`) and a Redis one (`userharbor/redis`).
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type { StoreError } from "./Errors.js"
import { makeHub } from "./internal/invalidationHub.js"
import { UserId } from "./User.js"
import { TokenHash } from "./UserStore.js"

/**
 * One session ended or changed (logout, revoke, renewal).
 *
 * @since 0.3.0
 * @category models
 */
export const SessionInvalidated = Schema.TaggedStruct("Session", { tokenHash: TokenHash })

/**
 * Every session of one user ended or changed (logout everywhere, password change or reset, deletion,
 * verification).
 *
 * @since 0.3.0
 * @category models
 */
export const UserInvalidated = Schema.TaggedStruct("User", { userId: UserId })

/**
 * Some unverified users were purged, without saying which: every session of an unverified user is suspect.
 *
 * @since 0.3.0
 * @category models
 */
export const UnverifiedInvalidated = Schema.TaggedStruct("Unverified", {})

/**
 * What one message says.
 *
 * @since 0.3.0
 * @category models
 */
export const Invalidation = Schema.Union(SessionInvalidated, UserInvalidated, UnverifiedInvalidated)

/**
 * @since 0.3.0
 * @category models
 */
export type Invalidation = typeof Invalidation.Type

/**
 * The channel is live: every message published from now on is delivered. Messages published before it (while
 * `Disconnected`) may have been missed.
 *
 * @since 0.3.0
 * @category models
 */
export interface Connected {
  readonly _tag: "Connected"
}

/**
 * The channel is not live (not yet, or lost): messages may be missed until the next `Connected`.
 *
 * @since 0.3.0
 * @category models
 */
export interface Disconnected {
  readonly _tag: "Disconnected"
}

/**
 * What a subscriber receives.
 *
 * @since 0.3.0
 * @category models
 */
export type Event = Invalidation | Connected | Disconnected

/**
 * @since 0.3.0
 * @category constructors
 */
export const connected: Connected = { _tag: "Connected" }

/**
 * @since 0.3.0
 * @category constructors
 */
export const disconnected: Disconnected = { _tag: "Disconnected" }

/**
 * The shape of the `SessionInvalidation` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface SessionInvalidationService {
  /** Sends one message to every subscriber of every instance; fails with `StoreError` when the channel refuses. */
  readonly publish: (invalidation: Invalidation) => Effect.Effect<void, StoreError>
  /**
   * Everyone's messages, with the channel's state: `Disconnected` first, `Connected` once listening, and both again
   * around every loss. Each run of the stream is a subscription of its own; it never fails.
   */
  readonly subscribe: Stream.Stream<Event>
}

/**
 * @since 0.3.0
 * @category tags
 */
export class SessionInvalidation extends Context.Tag("userharbor/SessionInvalidation")<
  SessionInvalidation,
  SessionInvalidationService
>() {}

const json = Schema.parseJson(Invalidation)
const encodeJson = Schema.encodeSync(json)
const decodeJson = Schema.decodeUnknownOption(json)

/**
 * A message as one line of JSON, for channels that carry strings (`{"_tag":"User","userId":"…"}`).
 *
 * @since 0.3.0
 * @category encoding
 */
export const encode = (invalidation: Invalidation): string => encodeJson(invalidation)

/**
 * The message in a string from `encode`; `None` for anything else, which a subscriber skips (it is not ours).
 *
 * @since 0.3.0
 * @category encoding
 */
export const decode = (payload: string): Option.Option<Invalidation> => decodeJson(payload)

/**
 * A channel inside one process, with the means to simulate its loss: `disconnect` makes every subscriber see
 * `Disconnected` and drops what is published until `reconnect`, which emits `Connected`.
 *
 * @since 0.3.0
 * @category models
 */
export interface MemoryChannel extends SessionInvalidationService {
  readonly disconnect: Effect.Effect<void>
  readonly reconnect: Effect.Effect<void>
}

/**
 * Builds a `MemoryChannel`.
 *
 * @since 0.3.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<MemoryChannel> = Effect.map(makeHub(true), (hub) => ({
  publish: (invalidation) => Effect.flatMap(hub.isLive, (up) => up ? hub.deliver(invalidation) : Effect.void),
  subscribe: hub.subscribe,
  disconnect: hub.setLive(false),
  reconnect: hub.setLive(true)
}))

/**
 * The channel inside one process: enough for several caches in one process, and for tests.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerMemory: Layer.Layer<SessionInvalidation> = Layer.effect(SessionInvalidation, makeMemory)
