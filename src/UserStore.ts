/**
 * The storage port for accounts: users, single-use tokens and sessions, and the transaction that the other ports
 * (`CounterStore`, `OutboxStore`) of the same backend join. UserHarbor never hands it a raw token: sessions and
 * tokens are keyed by their HMAC (`TokenHash`).
 *
 * The contract (checked for every implementation by the conformance suite in `userharbor/testing`):
 * - Uniqueness of `usernameKey` and `emailKey` is enforced by the store itself (a constraint, never a
 *   read-then-write); `insertUser` reports `UsernameTaken` before `EmailTaken` when both collide.
 * - A user has at most one live token per purpose: `issueToken` replaces the previous one.
 * - `consumeToken` is one atomic step: of two concurrent consumers, one gets the record and the other nothing.
 *   It removes the token whether or not it has expired; the caller judges expiry.
 * - `deleteUser` removes the user's sessions and tokens with it.
 * - Session management methods take the user's id and touch only that user's sessions, whatever session id or
 *   hash they are given. Sessions are ordered by `createdAt`, then `id`: "oldest" means first in that order.
 * - `withTransaction` commits on success and rolls back on failure, defect and interruption; a nested call joins
 *   the outer transaction, and its own failure undoes only its own part (a savepoint).
 * - Instants are epoch milliseconds from `Clock`, so no driver can hand back an ambiguous local time.
 * - Writes made through the `CounterStore` and `OutboxStore` of the same backend inside `withTransaction` belong to
 *   that transaction. `deleteUser` leaves outbox rows (the account-deleted notice must still go out).
 * - `purgeUnverifiedUsers` and `deleteUnverifiedUsers` delete only users still unverified, checked in the same
 *   step as the delete.
 * - `deleteUserSession` answers `false`, never a `StoreError`, for an id no row can have (one the database cannot
 *   even store or compare).
 * - `insertSessionIfPasswordVersion` inserts only while the user's `passwordVersion` still equals the given one,
 *   checked in the same statement as the insert.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as CounterStore from "./CounterStore.js"
import type { EmailTaken, StoreError, TokenPurpose, UsernameTaken } from "./Errors.js"
import type * as OutboxStore from "./OutboxStore.js"
import type { SessionId, UserId } from "./User.js"

/**
 * The HMAC of a session or single-use token: the only form in which a store sees one. A brand, so a raw token
 * cannot be passed where its hash is expected.
 *
 * @since 0.3.0
 * @category keys
 */
export const TokenHash = Schema.String.pipe(Schema.brand("userharbor/TokenHash"))

/**
 * @since 0.3.0
 * @category keys
 */
export type TokenHash = typeof TokenHash.Type

/**
 * The canonical form of a username that uniqueness and look-ups use (see `Username.validate`).
 *
 * @since 0.3.0
 * @category keys
 */
export const UsernameKey = Schema.String.pipe(Schema.brand("userharbor/UsernameKey"))

/**
 * @since 0.3.0
 * @category keys
 */
export type UsernameKey = typeof UsernameKey.Type

/**
 * The canonical form of an email address that uniqueness and look-ups use (see `Email.validate`).
 *
 * @since 0.3.0
 * @category keys
 */
export const EmailKey = Schema.String.pipe(Schema.brand("userharbor/EmailKey"))

/**
 * @since 0.3.0
 * @category keys
 */
export type EmailKey = typeof EmailKey.Type

/**
 * A user as stored. `usernameKey` and `emailKey` are the canonical forms that uniqueness and look-ups use.
 * `passwordVersion` grows with every password change, so a write can be made conditional on the version it read.
 *
 * @since 0.1.0
 * @category models
 */
export interface UserRecord {
  readonly id: UserId
  readonly username: string
  readonly usernameKey: UsernameKey
  readonly email: string
  readonly emailKey: EmailKey
  readonly passwordHash: string
  readonly passwordVersion: number
  readonly verified: boolean
  readonly createdAt: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SessionRecord {
  readonly id: SessionId
  readonly tokenHash: TokenHash
  readonly userId: UserId
  readonly createdAt: number
  readonly expiresAt: number
  readonly lastUsedAt: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface TokenRecord {
  readonly tokenHash: TokenHash
  readonly purpose: TokenPurpose
  readonly userId: UserId
  readonly createdAt: number
  readonly expiresAt: number
}

/**
 * The fields of a user that a session check returns (those of the public `User`). Never the password hash: a
 * session check runs on every request and has no use for it, so it is not read, copied or cached.
 *
 * @since 0.1.0
 * @category models
 */
export type SessionUser = Pick<UserRecord, "id" | "username" | "email" | "verified" | "createdAt">

/**
 * A session with its user, as one look-up returns them (session checks run on every request). A store may return
 * a richer user object, but never with the password hash in it (the `SessionCache` keeps these in memory).
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionWithUser {
  readonly session: SessionRecord
  readonly user: SessionUser
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PasswordUpdate {
  readonly userId: UserId
  readonly passwordHash: string
  /** Update only if the stored version still equals this one (guards against a concurrent change). */
  readonly expectedVersion?: number
  /**
   * The same password under new hashing parameters: `passwordVersion` stays as it is, so a session being created
   * against the version just verified is not refused. Default `false` (a new password: the version grows).
   */
  readonly rehash?: boolean
}

/**
 * What `renewSession` writes.
 *
 * @since 0.3.0
 * @category models
 */
export interface SessionRenewal {
  readonly tokenHash: TokenHash
  readonly expiresAt: number
  readonly lastUsedAt: number
}

/**
 * The shape of the `UserStore` service, apart from its tag, so a store (or a decorator such as `SessionCache`) can
 * be written against it.
 *
 * @since 0.3.0
 * @category models
 */
export interface UserStoreService {
  // users
  readonly insertUser: (user: UserRecord) => Effect.Effect<void, UsernameTaken | EmailTaken | StoreError>
  readonly findUserById: (id: UserId) => Effect.Effect<Option.Option<UserRecord>, StoreError>
  readonly findUserByUsername: (usernameKey: UsernameKey) => Effect.Effect<Option.Option<UserRecord>, StoreError>
  readonly findUserByEmail: (emailKey: EmailKey) => Effect.Effect<Option.Option<UserRecord>, StoreError>
  readonly markVerified: (id: UserId) => Effect.Effect<void, StoreError>
  /** Sets the hash and increments `passwordVersion`; `false` when the user is gone or the version moved on. */
  readonly updatePassword: (update: PasswordUpdate) => Effect.Effect<boolean, StoreError>
  /** Deletes the user with every session and token; `false` when there was no such user. */
  readonly deleteUser: (id: UserId) => Effect.Effect<boolean, StoreError>

  // single-use tokens
  /** Stores the token and removes the user's previous token of the same purpose. */
  readonly issueToken: (token: TokenRecord) => Effect.Effect<void, StoreError>
  readonly findToken: (
    purpose: TokenPurpose,
    tokenHash: TokenHash
  ) => Effect.Effect<Option.Option<TokenRecord>, StoreError>
  readonly consumeToken: (
    purpose: TokenPurpose,
    tokenHash: TokenHash
  ) => Effect.Effect<Option.Option<TokenRecord>, StoreError>
  readonly deleteUserTokens: (userId: UserId, purpose: TokenPurpose) => Effect.Effect<void, StoreError>

  // sessions
  readonly insertSession: (session: SessionRecord) => Effect.Effect<void, StoreError>
  /**
   * Inserts the session only if its user exists with this `passwordVersion`, in one step; `false` otherwise. A
   * login uses it so that a password change or reset that commits while the old password is being verified wins.
   */
  readonly insertSessionIfPasswordVersion: (
    session: SessionRecord,
    passwordVersion: number
  ) => Effect.Effect<boolean, StoreError>
  readonly findSession: (tokenHash: TokenHash) => Effect.Effect<Option.Option<SessionWithUser>, StoreError>
  readonly renewSession: (renewal: SessionRenewal) => Effect.Effect<void, StoreError>
  readonly deleteSession: (tokenHash: TokenHash) => Effect.Effect<boolean, StoreError>
  /** Returns how many sessions were removed. */
  readonly deleteUserSessions: (userId: UserId) => Effect.Effect<number, StoreError>
  /** The user's sessions, expired ones included, oldest first (`createdAt`, then `id`). */
  readonly listUserSessions: (userId: UserId) => Effect.Effect<ReadonlyArray<SessionRecord>, StoreError>
  /** Deletes the session with this id if it belongs to this user; `false` when it does not exist or is another's. */
  readonly deleteUserSession: (userId: UserId, sessionId: SessionId) => Effect.Effect<boolean, StoreError>
  /** Deletes every session of the user except the one with `keepTokenHash`; returns how many were removed. */
  readonly deleteOtherUserSessions: (userId: UserId, keepTokenHash: TokenHash) => Effect.Effect<number, StoreError>
  /**
   * Deletes the user's oldest sessions until at most `keep` remain (`keep` may be 0), and returns how many were
   * removed. Run it in the same transaction as the insert it makes room for.
   */
  readonly trimUserSessions: (userId: UserId, keep: number) => Effect.Effect<number, StoreError>

  // purging
  /**
   * Removes sessions and tokens that expired at or before `now`, at most `limit` rows in total (sessions and tokens
   * together), and returns how many it removed. Look-ups never filter by expiry: the port has no clock.
   */
  readonly purgeExpired: (
    options: { readonly now: number; readonly limit: number }
  ) => Effect.Effect<number, StoreError>
  /**
   * Deletes users that are still unverified and were created at or before `createdBefore`, with their sessions and
   * tokens, at most `limit`, oldest first, and returns how many. Each user's `verified` is checked in the statement
   * that deletes it, so one verified meanwhile is kept.
   */
  readonly purgeUnverifiedUsers: (
    options: { readonly createdBefore: number; readonly limit: number }
  ) => Effect.Effect<number, StoreError>
  /**
   * Deletes the users holding `usernameKey` or `emailKey` that are still unverified and were created at or before
   * `createdBefore` (at most two), with their sessions and tokens, and returns how many; `verified` is checked in
   * the statement that deletes. `register` runs it when an expired unverified account holds the name or address.
   */
  readonly deleteUnverifiedUsers: (
    options: { readonly usernameKey: UsernameKey; readonly emailKey: EmailKey; readonly createdBefore: number }
  ) => Effect.Effect<number, StoreError>

  /**
   * Runs `self` in one transaction of the backend, which the `CounterStore` and `OutboxStore` it provides join too.
   * Commits on success, rolls back on failure, defect and interruption; a nested call joins the outer transaction
   * and its own failure undoes only its own part (a savepoint).
   */
  readonly withTransaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreError, R>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class UserStore extends Context.Tag("userharbor/UserStore")<UserStore, UserStoreService>() {}

/**
 * @deprecated Moved to `CounterStore.CounterRecord` with the counter methods (0.3.0).
 * @since 0.1.0
 * @category models
 */
export type CounterRecord = CounterStore.CounterRecord

/**
 * @deprecated Moved to `OutboxStore.OutboxRecord` with the outbox methods (0.3.0).
 * @since 0.1.0
 * @category models
 */
export type OutboxRecord = OutboxStore.OutboxRecord
