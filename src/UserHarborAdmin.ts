/**
 * The administration service, for an operator's tools (a back office, the `userharbor user …` commands): find
 * and list accounts, lock and unlock them, end their sessions, mark them verified, delete them, clear their login
 * throttling. A service and layer of its own, apart from `UserHarbor`, so an app's public surface never carries
 * it: wire it only where operators are authenticated and authorised (the library checks neither).
 *
 * Every operation that changes an account takes the acting admin's id (`actorId`, whatever the app calls its
 * operators), recorded with the change. Each is an `Effect` with exact typed errors and a span named
 * `UserHarborAdmin.<operation>`.
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { InvalidAdminInput, StoreError, UserNotFound } from "./Errors.js"
import type { User } from "./User.js"

/**
 * How `findUser` looks an account up: by its id, or by a username or email address as a user would type it
 * (compared as login compares them: case-insensitively, by canonical form).
 *
 * @since 0.3.0
 * @category models
 */
export type UserLookup =
  | { readonly id: string }
  | { readonly username: string }
  | { readonly email: string }

/**
 * A lock on an account: the reason the admin gave, when, and which admin.
 *
 * @since 0.3.0
 * @category models
 */
export interface AccountLock {
  readonly reason: string
  readonly lockedAt: Date
  readonly actorId: string
}

/**
 * An account as an admin sees it: the public user (never a password hash) and its lock, if any.
 *
 * @since 0.3.0
 * @category models
 */
export interface AdminUser {
  readonly user: User
  readonly lock: Option.Option<AccountLock>
}

/**
 * A request for one page of the user directory. Filters are optional and combine with AND; `createdBefore` and
 * `createdAfter` are exclusive. `cursor` is the `nextCursor` of the previous page (the first page without it);
 * keep the same filters while paging. `limit` is 1 to 1000, 50 by default.
 *
 * @since 0.3.0
 * @category models
 */
export interface ListUsersInput {
  readonly verified?: boolean | undefined
  readonly locked?: boolean | undefined
  readonly createdBefore?: Date | undefined
  readonly createdAfter?: Date | undefined
  readonly cursor?: string | undefined
  readonly limit?: number | undefined
}

/**
 * One page of users, oldest first (by creation, then id). `nextCursor` continues after the last one; `None` when
 * this page is the last. Paging while users are created or deleted lists every user that exists throughout exactly
 * once.
 *
 * @since 0.3.0
 * @category models
 */
export interface UserPage {
  readonly users: ReadonlyArray<AdminUser>
  readonly nextCursor: Option.Option<string>
}

/**
 * An administrative change to one account: which account, and the acting admin's id (1 to 200 characters, as the
 * app names its operators; recorded with the change).
 *
 * @since 0.3.0
 * @category models
 */
export interface AdminAction {
  readonly userId: string
  readonly actorId: string
}

/**
 * @since 0.3.0
 * @category models
 */
export interface LockInput extends AdminAction {
  /** Why, in the admin's words (1 to 500 characters); shown to admins, never to the user. */
  readonly reason: string
}

/**
 * The shape of the `UserHarborAdmin` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface UserHarborAdminService {
  readonly findUser: (lookup: UserLookup) => Effect.Effect<AdminUser, UserNotFound | StoreError>
  readonly listUsers: (input: ListUsersInput) => Effect.Effect<UserPage, InvalidAdminInput | StoreError>
  /**
   * Locks the account: it can no longer log in, and every session ends at once (in the same transaction).
   * `false` when it was locked already: the first lock, its reason and admin, stay.
   */
  readonly lock: (input: LockInput) => Effect.Effect<boolean, UserNotFound | InvalidAdminInput | StoreError>
  /** Lifts the lock; `false` when the account was not locked. */
  readonly unlock: (input: AdminAction) => Effect.Effect<boolean, UserNotFound | InvalidAdminInput | StoreError>
  /** Ends every session of the account, and returns how many. */
  readonly endSessions: (input: AdminAction) => Effect.Effect<number, UserNotFound | InvalidAdminInput | StoreError>
  /** Marks the account's address verified; `false` when it was already. */
  readonly markVerified: (input: AdminAction) => Effect.Effect<boolean, UserNotFound | InvalidAdminInput | StoreError>
  /** Deletes the account with its sessions, tokens, factors and lock. No mail is sent. */
  readonly deleteUser: (input: AdminAction) => Effect.Effect<void, UserNotFound | InvalidAdminInput | StoreError>
  /** Clears the account's login and re-check throttling counters (under both its names). */
  readonly clearThrottle: (input: AdminAction) => Effect.Effect<void, UserNotFound | InvalidAdminInput | StoreError>
}

/**
 * @since 0.3.0
 * @category tags
 */
export class UserHarborAdmin
  extends Context.Tag("userharbor/UserHarborAdmin")<UserHarborAdmin, UserHarborAdminService>()
{}
