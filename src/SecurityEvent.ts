/**
 * The security-event trail's events: what happened to an account, when, and from where, as typed values. Every
 * event carries its id, its time, the account (`userId`), and what the caller knew: the session it happened in or
 * created, the acting administrator, the client key, user agent and (truncated) address. None carries a password,
 * a token, a hash or a secret; a login failure says why in a word (`reason`), never with what.
 *
 * `SecurityEvent` is what the store keeps and `recentActivity` returns: events about an account. The stream also
 * carries `AnonymousEvent`s, about no known account (a login for an unknown name, a throttled registration), which
 * are published only.
 *
 * @since 0.3.0
 */
import * as Schema from "effect/Schema"
import { SessionId, UserId } from "./User.js"

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.OptionFromNullOr(schema)

/**
 * The fields every event has but `userId`, for the events about no account.
 *
 * @since 0.3.0
 * @category fields
 */
export const anonymousFields = {
  id: Schema.String,
  at: Schema.Date,
  sessionId: optional(SessionId),
  /** The acting administrator's id, as the caller supplied it. */
  actorId: optional(Schema.String),
  clientKey: optional(Schema.String),
  userAgent: optional(Schema.String),
  /** Already truncated to a prefix (see `sessionDevices` in the configuration). */
  address: optional(Schema.String)
}

/**
 * The fields every event about an account has.
 *
 * @since 0.3.0
 * @category fields
 */
export const commonFields = { ...anonymousFields, userId: UserId }

/**
 * @since 0.3.0
 * @category events
 */
export class Registered extends Schema.TaggedClass<Registered>()("Registered", commonFields) {}

/**
 * @since 0.3.0
 * @category events
 */
export class EmailVerified extends Schema.TaggedClass<EmailVerified>()("EmailVerified", commonFields) {}

/**
 * How a login was made: a password alone, a password and a second factor, or a passkey.
 *
 * @since 0.3.0
 * @category models
 */
export const LoginMethod = Schema.Literal("password", "second-factor", "passkey")

/**
 * @since 0.3.0
 * @category events
 */
export class LoginSucceeded extends Schema.TaggedClass<LoginSucceeded>()("LoginSucceeded", {
  ...commonFields,
  method: LoginMethod
}) {}

/**
 * Why a login of a known account failed (never with what).
 *
 * @since 0.3.0
 * @category models
 */
export const LoginFailureReason = Schema.Literal("wrong-password", "unverified", "locked", "second-factor")

/**
 * @since 0.3.0
 * @category events
 */
export class LoginFailed extends Schema.TaggedClass<LoginFailed>()("LoginFailed", {
  ...commonFields,
  reason: LoginFailureReason
}) {}

/**
 * What a `TooManyAttempts` refused.
 *
 * @since 0.3.0
 * @category models
 */
export const ThrottledOperation = Schema.Literal("login", "reauthenticate", "second-factor", "register")

/**
 * @since 0.3.0
 * @category events
 */
export class Throttled extends Schema.TaggedClass<Throttled>()("Throttled", {
  ...commonFields,
  operation: ThrottledOperation
}) {}

/**
 * @since 0.3.0
 * @category events
 */
export class PasswordChanged extends Schema.TaggedClass<PasswordChanged>()("PasswordChanged", commonFields) {}

/**
 * @since 0.3.0
 * @category events
 */
export class PasswordReset extends Schema.TaggedClass<PasswordReset>()("PasswordReset", commonFields) {}

/**
 * @since 0.3.0
 * @category events
 */
export class EmailChangeRequested
  extends Schema.TaggedClass<EmailChangeRequested>()("EmailChangeRequested", commonFields)
{}

/**
 * @since 0.3.0
 * @category events
 */
export class EmailChanged extends Schema.TaggedClass<EmailChanged>()("EmailChanged", commonFields) {}

/**
 * @since 0.3.0
 * @category events
 */
export class EmailChangeReverted
  extends Schema.TaggedClass<EmailChangeReverted>()("EmailChangeReverted", commonFields)
{}

/**
 * Which sessions a revocation ended: the current one (`logout`), one chosen by id, all but the current one, or
 * all of them.
 *
 * @since 0.3.0
 * @category models
 */
export const RevocationScope = Schema.Literal("logout", "session", "other-sessions", "all-sessions")

/**
 * One call that ended sessions; `count` is how many it ended.
 *
 * @since 0.3.0
 * @category events
 */
export class SessionRevoked extends Schema.TaggedClass<SessionRevoked>()("SessionRevoked", {
  ...commonFields,
  scope: RevocationScope,
  count: Schema.Int
}) {}

/**
 * @since 0.3.0
 * @category events
 */
export class AccountLocked extends Schema.TaggedClass<AccountLocked>()("AccountLocked", {
  ...commonFields,
  /** The administrator's reason, as given. */
  reason: Schema.String
}) {}

/**
 * @since 0.3.0
 * @category events
 */
export class AccountUnlocked extends Schema.TaggedClass<AccountUnlocked>()("AccountUnlocked", commonFields) {}

/**
 * Kept after the account is gone, until the retention purge.
 *
 * @since 0.3.0
 * @category events
 */
export class AccountDeleted extends Schema.TaggedClass<AccountDeleted>()("AccountDeleted", commonFields) {}

/**
 * @since 0.3.0
 * @category models
 */
export const SecondFactorKind = Schema.Literal("totp")

/**
 * @since 0.3.0
 * @category events
 */
export class SecondFactorEnabled extends Schema.TaggedClass<SecondFactorEnabled>()("SecondFactorEnabled", {
  ...commonFields,
  factor: SecondFactorKind
}) {}

/**
 * @since 0.3.0
 * @category events
 */
export class SecondFactorDisabled extends Schema.TaggedClass<SecondFactorDisabled>()("SecondFactorDisabled", {
  ...commonFields,
  factor: SecondFactorKind
}) {}

/**
 * @since 0.3.0
 * @category events
 */
export class RecoveryCodesRegenerated
  extends Schema.TaggedClass<RecoveryCodesRegenerated>()("RecoveryCodesRegenerated", commonFields)
{}

/**
 * `passkeyId` is the credential's public id (as `listPasskeys` shows it), `name` the user's label.
 *
 * @since 0.3.0
 * @category events
 */
export class PasskeyAdded extends Schema.TaggedClass<PasskeyAdded>()("PasskeyAdded", {
  ...commonFields,
  passkeyId: Schema.String,
  name: Schema.String
}) {}

/**
 * @since 0.3.0
 * @category events
 */
export class PasskeyRemoved extends Schema.TaggedClass<PasskeyRemoved>()("PasskeyRemoved", {
  ...commonFields,
  passkeyId: Schema.String
}) {}

/**
 * @since 0.3.0
 * @category events
 */
export class AccountVerifiedByAdmin
  extends Schema.TaggedClass<AccountVerifiedByAdmin>()("AccountVerifiedByAdmin", commonFields)
{}

/**
 * @since 0.3.0
 * @category events
 */
export class SessionsEndedByAdmin extends Schema.TaggedClass<SessionsEndedByAdmin>()("SessionsEndedByAdmin", {
  ...commonFields,
  count: Schema.Int
}) {}

/**
 * @since 0.3.0
 * @category events
 */
export class ThrottleCleared extends Schema.TaggedClass<ThrottleCleared>()("ThrottleCleared", commonFields) {}

/**
 * An event about an account, as stored and as `recentActivity` returns it.
 *
 * @since 0.3.0
 * @category schemas
 */
export const SecurityEvent = Schema.Union(
  Registered,
  EmailVerified,
  LoginSucceeded,
  LoginFailed,
  Throttled,
  PasswordChanged,
  PasswordReset,
  EmailChangeRequested,
  EmailChanged,
  EmailChangeReverted,
  SessionRevoked,
  AccountLocked,
  AccountUnlocked,
  AccountDeleted,
  SecondFactorEnabled,
  SecondFactorDisabled,
  RecoveryCodesRegenerated,
  PasskeyAdded,
  PasskeyRemoved,
  AccountVerifiedByAdmin,
  SessionsEndedByAdmin,
  ThrottleCleared
)

/**
 * @since 0.3.0
 * @category models
 */
export type SecurityEvent = typeof SecurityEvent.Type

/**
 * A login for a name or address that belongs to no account (or is not a valid one). Published, never stored.
 *
 * @since 0.3.0
 * @category events
 */
export class AnonymousLoginFailed extends Schema.TaggedClass<AnonymousLoginFailed>()("AnonymousLoginFailed", {
  ...anonymousFields,
  reason: Schema.Literal("unknown-account")
}) {}

/**
 * A `TooManyAttempts` for no known account (a registration, a login for an unknown name). Published, never stored.
 *
 * @since 0.3.0
 * @category events
 */
export class AnonymousThrottled extends Schema.TaggedClass<AnonymousThrottled>()("AnonymousThrottled", {
  ...anonymousFields,
  operation: ThrottledOperation
}) {}

/**
 * @since 0.3.0
 * @category schemas
 */
export const AnonymousEvent = Schema.Union(AnonymousLoginFailed, AnonymousThrottled)

/**
 * @since 0.3.0
 * @category models
 */
export type AnonymousEvent = typeof AnonymousEvent.Type

/**
 * Everything `SecurityEvents` publishes.
 *
 * @since 0.3.0
 * @category schemas
 */
export const PublishedEvent = Schema.Union(SecurityEvent, AnonymousEvent)

/**
 * @since 0.3.0
 * @category models
 */
export type PublishedEvent = typeof PublishedEvent.Type

/**
 * The common fields as a value: what the recorder fills in before an operation adds its event's own fields.
 *
 * @since 0.3.0
 * @category models
 */
export type Common = Schema.Struct.Type<typeof commonFields>

/**
 * @since 0.3.0
 * @category models
 */
export type AnonymousCommon = Schema.Struct.Type<typeof anonymousFields>

/**
 * The event as the store keeps it (JSON text, opaque to the store), and back.
 *
 * @since 0.3.0
 * @category codecs
 */
export const Json = Schema.parseJson(SecurityEvent)
