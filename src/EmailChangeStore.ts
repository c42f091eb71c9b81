/**
 * The storage port for changes of email address: the pending change of each user (at most one, waiting for the
 * link mailed to the new address), the revert tokens mailed to old addresses, and the move of an account to another
 * address. A store that keeps accounts provides it on the same backend (`SqlUserStore.layer`, `MemoryUserStore.layer`
 * do), and its writes then join the `UserStore`'s `withTransaction`. UserHarbor uses it when it is in context: an
 * app whose store does not provide it keeps working, without the change-of-email operations.
 *
 * The store never sees a token: pending changes and revert tokens are keyed by their HMAC (`TokenHash`).
 *
 * The contract (checked for every implementation by `StoreConformance.emailChangeStoreCases`):
 * - A user has at most one pending change: `putPendingChange` replaces the previous one in the same step.
 * - `consumePendingChange` and `consumeRevertToken` are atomic: of two concurrent consumers, one gets the record and
 *   the other nothing. Consumption removes the row whether or not it expired; the caller judges expiry.
 * - `moveEmail` writes the user's address and its key in one statement, and the uniqueness of the key is the
 *   store's own constraint (the one `UserStore.insertUser` relies on): of two accounts moving to one address at once,
 *   exactly one succeeds and the other fails with `EmailTaken`, never a `StoreError`. A failed move changes nothing
 *   and leaves the caller's transaction usable.
 * - `moveEmail` does not touch sessions: the caller ends them through the `UserStore` in the same transaction (so a
 *   `SessionCache` drops the sessions it holds with the old address).
 * - Deleting a user removes the user's pending change and revert tokens in the same step.
 * - Instants are epoch milliseconds from `Clock`.
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { EmailTaken, StoreError } from "./Errors.js"
import type { UserId } from "./User.js"
import type { EmailKey, TokenHash } from "./UserStore.js"

/**
 * A change of address waiting for its confirmation. `keepSession` is the HMAC of the session that asked for it
 * (the one session the confirmation leaves alive); `passwordVersion` the version the password was re-checked
 * against, so a password change or reset in between voids the change.
 *
 * @since 0.3.0
 * @category models
 */
export interface PendingEmailChange {
  readonly tokenHash: TokenHash
  readonly userId: UserId
  readonly newEmail: string
  readonly newEmailKey: EmailKey
  readonly keepSession: TokenHash
  readonly passwordVersion: number
  readonly createdAt: number
  readonly expiresAt: number
}

/**
 * A revert token, mailed to the address an account left: it moves the account back to `oldEmail`.
 *
 * @since 0.3.0
 * @category models
 */
export interface EmailRevertRecord {
  readonly tokenHash: TokenHash
  readonly userId: UserId
  readonly oldEmail: string
  readonly oldEmailKey: EmailKey
  readonly createdAt: number
  readonly expiresAt: number
}

/**
 * What `moveEmail` writes. With `expectedPasswordVersion` the move happens only while the user's `passwordVersion`
 * still equals it, checked in the same statement.
 *
 * @since 0.3.0
 * @category models
 */
export interface EmailMove {
  readonly userId: UserId
  readonly email: string
  readonly emailKey: EmailKey
  readonly expectedPasswordVersion?: number | undefined
}

/**
 * The shape of the `EmailChangeStore` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface EmailChangeStoreService {
  // pending changes
  /** Stores the change, replacing the user's previous pending change (if any) in the same step. */
  readonly putPendingChange: (change: PendingEmailChange) => Effect.Effect<void, StoreError>
  readonly findPendingChange: (userId: UserId) => Effect.Effect<Option.Option<PendingEmailChange>, StoreError>
  /** Removes the change with this hash, atomically, and returns it to the one consumer that removed it. */
  readonly consumePendingChange: (
    tokenHash: TokenHash
  ) => Effect.Effect<Option.Option<PendingEmailChange>, StoreError>
  /** Removes the user's pending change; `false` when there was none. */
  readonly deletePendingChange: (userId: UserId) => Effect.Effect<boolean, StoreError>

  // the move
  /**
   * Moves the user to the address (the store's unique key decides a race: `EmailTaken` for the loser); `false`
   * when the user is gone or its password version moved on.
   */
  readonly moveEmail: (move: EmailMove) => Effect.Effect<boolean, EmailTaken | StoreError>

  // revert tokens
  readonly insertRevertToken: (record: EmailRevertRecord) => Effect.Effect<void, StoreError>
  /** Removes the token with this hash, atomically, and returns it to the one consumer that removed it. */
  readonly consumeRevertToken: (tokenHash: TokenHash) => Effect.Effect<Option.Option<EmailRevertRecord>, StoreError>
  /**
   * Deletes the user's revert tokens created at or after `createdFrom` and returns how many: a revert voids the
   * tokens of the changes that followed the one it undoes, but not those of earlier ones.
   */
  readonly deleteRevertTokens: (
    options: { readonly userId: UserId; readonly createdFrom: number }
  ) => Effect.Effect<number, StoreError>

  // purging
  /**
   * Removes pending changes and revert tokens that expired at or before `now`, at most `limit` rows in total, and
   * returns how many.
   */
  readonly purgeExpiredEmailChanges: (
    options: { readonly now: number; readonly limit: number }
  ) => Effect.Effect<number, StoreError>
}

/**
 * @since 0.3.0
 * @category tags
 */
export class EmailChangeStore
  extends Context.Tag("userharbor/EmailChangeStore")<EmailChangeStore, EmailChangeStoreService>()
{}
