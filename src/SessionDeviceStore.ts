/**
 * The storage port for what a session's client said about itself at login: its user agent and its address, already
 * truncated to a network prefix by UserHarbor (see `UserHarborConfig.Options.sessionDevices`), so `listSessions`
 * can name the device ("Chrome on Linux"). A store that keeps accounts provides it on the same backend
 * (`SqlUserStore.layer`, `MemoryUserStore.layer` do), and its writes then join the `UserStore`'s
 * `withTransaction`. UserHarbor uses it when it is in context: without it sessions carry no client details and
 * nothing else changes.
 *
 * The contract (checked for every implementation by `StoreConformance.sessionDeviceStoreCases`):
 * - A record belongs to one session (its `sessionId`), at most one per session; UserHarbor writes it in the
 *   transaction that inserts the session.
 * - A record goes with its session: whatever removes a session (logout, revocation, a trim to the per-user cap, the
 *   purge of expired sessions, deleting or purging the user) removes its record in the same step.
 * - Neither field is a secret; neither is ever an empty string (absent is `None`).
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { StoreError } from "./Errors.js"
import type { SessionId, UserId } from "./User.js"

/**
 * The client details of one session. `address` is a network, not a host: `203.0.113.0/24`, `2001:db8:abcd::/48`.
 *
 * @since 0.3.0
 * @category models
 */
export interface SessionDeviceRecord {
  readonly sessionId: SessionId
  readonly userAgent: Option.Option<string>
  readonly address: Option.Option<string>
}

/**
 * The shape of the `SessionDeviceStore` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface SessionDeviceStoreService {
  /** Stores the record of a session inserted in the same transaction. */
  readonly insertSessionDevice: (record: SessionDeviceRecord) => Effect.Effect<void, StoreError>
  readonly findSessionDevice: (sessionId: SessionId) => Effect.Effect<Option.Option<SessionDeviceRecord>, StoreError>
  /** The records of the user's sessions (those that have one), in no particular order. */
  readonly listUserSessionDevices: (userId: UserId) => Effect.Effect<ReadonlyArray<SessionDeviceRecord>, StoreError>
}

/**
 * @since 0.3.0
 * @category tags
 */
export class SessionDeviceStore
  extends Context.Tag("userharbor/SessionDeviceStore")<SessionDeviceStore, SessionDeviceStoreService>()
{}
