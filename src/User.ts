/**
 * The public models: what a caller gets back. None of them holds a password hash, a token hash or a raw token in
 * a printable form.
 *
 * @since 0.1.0
 */
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * A user's stable id (32 hex characters from `SecureRandom`).
 *
 * @since 0.1.0
 * @category models
 */
export const UserId = Schema.String.pipe(Schema.brand("userharbor/UserId"))

/**
 * @since 0.1.0
 * @category models
 */
export type UserId = typeof UserId.Type

/**
 * A session's id: safe to show (`listSessions`) because it is not the token and cannot be turned into one.
 *
 * @since 0.1.0
 * @category models
 */
export const SessionId = Schema.String.pipe(Schema.brand("userharbor/SessionId"))

/**
 * @since 0.1.0
 * @category models
 */
export type SessionId = typeof SessionId.Type

/**
 * A user as the library shows it. `username` is displayed as typed (NFC); uniqueness ignores case.
 *
 * @since 0.1.0
 * @category models
 */
export class User extends Schema.Class<User>("userharbor/User")({
  id: UserId,
  username: Schema.String,
  email: Schema.String,
  verified: Schema.Boolean,
  createdAt: Schema.DateFromSelf
}) {}

/**
 * A session as `login` and `changePassword` return it. The token is `Redacted`: it prints as `<redacted>`, and
 * `Redacted.value(session.token)` is the string to put in a cookie or header.
 *
 * @since 0.1.0
 * @category models
 */
export interface Session {
  readonly id: SessionId
  readonly token: Redacted.Redacted<string>
  readonly expiresAt: Date
}

/**
 * What `validateSession` knows about the session it checked. `expiresAt` is the expiry after sliding renewal, so
 * an HTTP layer can refresh its cookie when it moved.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionInfo {
  readonly id: SessionId
  readonly createdAt: Date
  readonly expiresAt: Date
  readonly renewed: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ValidatedSession {
  readonly user: User
  readonly session: SessionInfo
}

/**
 * One of a user's live sessions, as `listSessions` shows it: never the token or its hash, so the list can go to a
 * browser as it is. `current` marks the session the list was asked with. `lastUsedAt` is accurate to an hour (see
 * `UserHarborConfig.Options.sessionTtl`); `expiresAt` is the nearer of the idle and the absolute timeout.
 * `device` names the client the session was created from (since 0.3.0).
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionSummary {
  readonly id: SessionId
  readonly createdAt: Date
  readonly lastUsedAt: Date
  readonly expiresAt: Date
  readonly current: boolean
  readonly device: SessionDevice
}

/**
 * The client a session was created from, as `login` was told (`ClientDetails`) and the store kept it
 * (`SessionDeviceStore`). `label` is always there: "Chrome on Linux", "Safari on iOS", or "Unknown device" when the
 * session has no user agent, the optional parser `bowser` is not installed, or it cannot read the user agent.
 * `address` is the client's network (`203.0.113.0/24`), never the full address.
 *
 * @since 0.3.0
 * @category models
 */
export interface SessionDevice {
  readonly label: string
  readonly userAgent: Option.Option<string>
  readonly address: Option.Option<string>
}
