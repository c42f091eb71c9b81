/**
 * The storage port for account administration: account locks, and the user directory an operator pages through.
 * A store that keeps accounts provides it on the same backend (`SqlUserStore.layer`, `MemoryUserStore.layer` do),
 * and its writes then join the `UserStore`'s `withTransaction`, so a lock and the end of the account's sessions
 * commit together. `UserHarbor` uses it, when it is in context, to refuse a locked account's login;
 * `UserHarborAdmin` needs it.
 *
 * The contract (checked for every implementation by `StoreConformance.accountAdminStoreCases`):
 * - An account has at most one lock. `insertLock` never replaces one: it answers `false`, and changes nothing, when
 *   the account is locked already or does not exist, checked in the same step as the write.
 * - Deleting a user (`UserStore.deleteUser`, the purges of unverified users) removes its lock in the same step.
 * - `listUsers` pages in one stable order, `createdAt` then `id`, both ascending, by keyset: a page starts strictly
 *   after the position it is given (no offset), so paging through while users are inserted or deleted returns every
 *   user present throughout exactly once, and none twice. Filters combine with AND; the bounds are exclusive.
 * - It never reads a password hash: directory entries carry the public fields of a user only.
 * - Instants are epoch milliseconds from `Clock`.
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { StoreError } from "./Errors.js"
import type { UserId } from "./User.js"
import type { SessionUser } from "./UserStore.js"

/**
 * A lock on an account: why (`reason`, the operator's words), when, and by whom (`actorId`, the acting admin's id
 * as the caller supplied it).
 *
 * @since 0.3.0
 * @category models
 */
export interface AccountLockRecord {
  readonly userId: UserId
  readonly reason: string
  readonly actorId: string
  readonly lockedAt: number
}

/**
 * Which users a directory page lists. Every field is optional; given ones combine with AND. `createdBefore` and
 * `createdAfter` are exclusive bounds on `createdAt`.
 *
 * @since 0.3.0
 * @category models
 */
export interface UserListFilter {
  readonly verified?: boolean | undefined
  readonly locked?: boolean | undefined
  readonly createdBefore?: number | undefined
  readonly createdAfter?: number | undefined
}

/**
 * A place in the directory's order (`createdAt`, then `id`): the last entry of the previous page.
 *
 * @since 0.3.0
 * @category models
 */
export interface UserListPosition {
  readonly createdAt: number
  readonly id: UserId
}

/**
 * One page's request: the entries after `after` (from the start when `None`) that pass `filter`, at most `limit`.
 *
 * @since 0.3.0
 * @category models
 */
export interface UserListQuery {
  readonly filter: UserListFilter
  readonly after: Option.Option<UserListPosition>
  readonly limit: number
}

/**
 * A user as the directory lists it: the public fields (never the password hash) and the lock, if any.
 *
 * @since 0.3.0
 * @category models
 */
export interface UserListEntry {
  readonly user: SessionUser
  readonly lock: Option.Option<AccountLockRecord>
}

/**
 * The shape of the `AccountAdminStore` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface AccountAdminStoreService {
  /**
   * Locks the account; `false`, and no change, when it is locked already (the first lock stays as it is) or the
   * user does not exist.
   */
  readonly insertLock: (lock: AccountLockRecord) => Effect.Effect<boolean, StoreError>
  /** Removes the account's lock; `false` when it had none. */
  readonly deleteLock: (userId: UserId) => Effect.Effect<boolean, StoreError>
  readonly findLock: (userId: UserId) => Effect.Effect<Option.Option<AccountLockRecord>, StoreError>
  /** A page of the directory, in the order `createdAt`, then `id`; at most `limit` entries. */
  readonly listUsers: (query: UserListQuery) => Effect.Effect<ReadonlyArray<UserListEntry>, StoreError>
}

/**
 * @since 0.3.0
 * @category tags
 */
export class AccountAdminStore
  extends Context.Tag("userharbor/AccountAdminStore")<AccountAdminStore, AccountAdminStoreService>()
{}
