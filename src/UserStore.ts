/**
 * The storage port. UserHarbor keeps users, sessions and single-use tokens through it, and never a raw token:
 * sessions and tokens are keyed by their HMAC (`tokenHash`).
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
 * - The email outbox is a queue with leases: `claimEmails` hands each due row to one claimer, a claim whose lease
 *   ended can be taken over (a crashed worker), and only the current holder may complete, retry or drop a row.
 *   Outbox rows belong to no user: `deleteUser` leaves them (the account-deleted notice must still go out).
 * - `incrementCounter` is one atomic step (an upsert, never a read-then-write): of N concurrent increments of a
 *   key, each sees a distinct count and the final count is exactly N more. `releaseCounter` is atomic too.
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
import type { EmailTaken, StoreError, TokenPurpose, UsernameTaken } from "./Errors.js"
import type { SessionId, UserId } from "./User.js"

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
  readonly usernameKey: string
  readonly email: string
  readonly emailKey: string
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
  readonly tokenHash: string
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
  readonly tokenHash: string
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
 * A message waiting in the email outbox. `payload` is opaque to the store: UserHarbor writes it encrypted and
 * authenticated (AES-256-GCM under a key derived from the secret key, the `id` as associated data), so the store
 * never holds a raw token. Rows are deleted once delivered or given up. A claim (worker id and lease end) is
 * the store's own business and not part of the record.
 *
 * @since 0.1.0
 * @category models
 */
export interface OutboxRecord {
  readonly id: string
  readonly payload: string
  readonly createdAt: number
  /** Failed delivery attempts so far. */
  readonly attempts: number
  readonly nextAttemptAt: number
}

/**
 * A named counter (failed logins, mails sent). `windowStart` is when the current count began, `updatedAt` when
 * it last grew.
 *
 * @since 0.1.0
 * @category models
 */
export interface CounterRecord {
  readonly count: number
  readonly windowStart: number
  readonly updatedAt: number
}

/**
 * @since 0.1.0
 * @category tags
 */
export class UserStore extends Context.Tag("userharbor/UserStore")<UserStore, {
  readonly insertUser: (user: UserRecord) => Effect.Effect<void, UsernameTaken | EmailTaken | StoreError>
  readonly findUserById: (id: UserId) => Effect.Effect<Option.Option<UserRecord>, StoreError>
  readonly findUserByUsername: (usernameKey: string) => Effect.Effect<Option.Option<UserRecord>, StoreError>
  readonly findUserByEmail: (emailKey: string) => Effect.Effect<Option.Option<UserRecord>, StoreError>
  readonly markVerified: (id: UserId) => Effect.Effect<void, StoreError>
  /** Sets the hash and increments `passwordVersion`; `false` when the user is gone or the version moved on. */
  readonly updatePassword: (update: PasswordUpdate) => Effect.Effect<boolean, StoreError>
  /** Deletes the user with every session and token; `false` when there was no such user. */
  readonly deleteUser: (id: UserId) => Effect.Effect<boolean, StoreError>

  /** Stores the token and removes the user's previous token of the same purpose. */
  readonly issueToken: (token: TokenRecord) => Effect.Effect<void, StoreError>
  readonly findToken: (
    purpose: TokenPurpose,
    tokenHash: string
  ) => Effect.Effect<Option.Option<TokenRecord>, StoreError>
  readonly consumeToken: (
    purpose: TokenPurpose,
    tokenHash: string
  ) => Effect.Effect<Option.Option<TokenRecord>, StoreError>
  readonly deleteUserTokens: (userId: UserId, purpose: TokenPurpose) => Effect.Effect<void, StoreError>

  readonly insertSession: (session: SessionRecord) => Effect.Effect<void, StoreError>
  readonly findSession: (tokenHash: string) => Effect.Effect<Option.Option<SessionWithUser>, StoreError>
  readonly renewSession: (
    tokenHash: string,
    expiresAt: number,
    lastUsedAt: number
  ) => Effect.Effect<void, StoreError>
  readonly deleteSession: (tokenHash: string) => Effect.Effect<boolean, StoreError>
  /** Returns how many sessions were removed. */
  readonly deleteUserSessions: (userId: UserId) => Effect.Effect<number, StoreError>

  /**
   * Removes sessions and tokens that expired at or before `now`, at most `limit` rows in total (sessions and tokens
   * together), and returns how many it removed. Look-ups never filter by expiry: the port has no clock.
   */
  readonly purgeExpired: (now: number, limit: number) => Effect.Effect<number, StoreError>
  /**
   * Deletes users that are still unverified and were created at or before `createdBefore`, with their sessions and
   * tokens, at most `limit`, oldest first, and returns how many. Each user's `verified` is checked in the statement
   * that deletes it, so one verified meanwhile is kept.
   */
  readonly purgeUnverifiedUsers: (createdBefore: number, limit: number) => Effect.Effect<number, StoreError>
  /**
   * Deletes the users holding `usernameKey` or `emailKey` that are still unverified and were created at or before
   * `createdBefore` (at most two), with their sessions and tokens, and returns how many; `verified` is checked in
   * the statement that deletes. `register` runs it when an expired unverified account holds the name or address.
   */
  readonly deleteUnverifiedUsers: (
    options: { readonly usernameKey: string; readonly emailKey: string; readonly createdBefore: number }
  ) => Effect.Effect<number, StoreError>

  readonly withTransaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreError, R>

  // email outbox
  /** Adds a message to the outbox; run it inside the transaction that writes the data the message is about. */
  readonly enqueueEmail: (email: OutboxRecord) => Effect.Effect<void, StoreError>
  /**
   * Atomically claims up to `limit` messages that are due (`nextAttemptAt <= now`) and not held by a live claim
   * (none, or one whose lease ended at or before `now`), oldest due first, for `workerId` until `now + leaseMs`.
   * Of two concurrent claimers, each row goes to one of them.
   */
  readonly claimEmails: (
    now: number,
    limit: number,
    leaseMs: number,
    workerId: string
  ) => Effect.Effect<ReadonlyArray<OutboxRecord>, StoreError>
  /** Deletes a delivered message; `false` (and no change) unless `workerId` still holds its claim. */
  readonly completeEmail: (id: string, workerId: string) => Effect.Effect<boolean, StoreError>
  /** Releases the claim and schedules another attempt; `false` (and no change) unless `workerId` holds the claim. */
  readonly retryEmail: (
    id: string,
    workerId: string,
    attempts: number,
    nextAttemptAt: number
  ) => Effect.Effect<boolean, StoreError>
  /** Deletes a message that will never be delivered; `false` (and no change) unless `workerId` holds the claim. */
  readonly dropEmail: (id: string, workerId: string) => Effect.Effect<boolean, StoreError>

  // throttling and counters
  /**
   * Atomically adds one to the counter `key` and returns the new count. When there is no counter yet, or its
   * window began at or before `now - windowMs` (a fixed window), the count restarts at 1 with `windowStart = now`.
   * `updatedAt` becomes `now` either way.
   */
  readonly incrementCounter: (key: string, now: number, windowMs: number) => Effect.Effect<number, StoreError>
  readonly getCounter: (key: string) => Effect.Effect<Option.Option<CounterRecord>, StoreError>
  readonly deleteCounter: (key: string) => Effect.Effect<void, StoreError>
  /**
   * Atomically takes one back from the counter `key`: gives back a reservation that was not used (a login slot
   * whose attempt succeeded). Never below 0; no change when there is no counter or its window began after `since`
   * (the increment being given back belonged to an earlier window). `windowStart` and `updatedAt` stay.
   */
  readonly releaseCounter: (key: string, since: number) => Effect.Effect<void, StoreError>
  /**
   * Removes counters last updated at or before `olderThan`, at most `limit`, and returns how many. Counters are
   * small but an attacker can create one per name tried; note that purging a login counter also lifts its lock.
   */
  readonly purgeCounters: (olderThan: number, limit: number) => Effect.Effect<number, StoreError>
  /**
   * Inserts the session only if its user exists with this `passwordVersion`, in one step; `false` otherwise. A
   * login uses it so that a password change or reset that commits while the old password is being verified wins.
   */
  readonly insertSessionIfPasswordVersion: (
    session: SessionRecord,
    passwordVersion: number
  ) => Effect.Effect<boolean, StoreError>

  // session management
  /** The user's sessions, expired ones included, oldest first (`createdAt`, then `id`). */
  readonly listUserSessions: (userId: UserId) => Effect.Effect<ReadonlyArray<SessionRecord>, StoreError>
  /** Deletes the session with this id if it belongs to this user; `false` when it does not exist or is another's. */
  readonly deleteUserSession: (userId: UserId, sessionId: SessionId) => Effect.Effect<boolean, StoreError>
  /** Deletes every session of the user except the one with `keepTokenHash`; returns how many were removed. */
  readonly deleteOtherUserSessions: (userId: UserId, keepTokenHash: string) => Effect.Effect<number, StoreError>
  /**
   * Deletes the user's oldest sessions until at most `keep` remain (`keep` may be 0), and returns how many were
   * removed. Run it in the same transaction as the insert it makes room for.
   */
  readonly trimUserSessions: (userId: UserId, keep: number) => Effect.Effect<number, StoreError>
}>() {}
