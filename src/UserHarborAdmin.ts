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
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { AccountAdminStore, type AccountLockRecord } from "./AccountAdminStore.js"
import { CounterStore } from "./CounterStore.js"
import * as Email from "./Email.js"
import { type InvalidAdminInput, type StoreError, UserNotFound } from "./Errors.js"
import * as AdminInput from "./internal/adminInput.js"
import * as Observe from "./internal/observe.js"
import * as EventRecorder from "./internal/securityEvents.js"
import * as Throttle from "./internal/throttle.js"
import * as Tokens from "./internal/tokens.js"
import { SecureRandom } from "./SecureRandom.js"
import * as SecurityEvent from "./SecurityEvent.js"
import { User, UserId } from "./User.js"
import { UserHarborConfig } from "./UserHarborConfig.js"
import * as Username from "./Username.js"
import { type SessionUser, type UserRecord, UserStore } from "./UserStore.js"

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

const toLock = (lock: AccountLockRecord): AccountLock => ({
  reason: lock.reason,
  lockedAt: new Date(lock.lockedAt),
  actorId: lock.actorId
})

const toAdminUser = (user: SessionUser, lock: Option.Option<AccountLockRecord>): AdminUser => ({
  user: new User({
    id: user.id,
    username: user.username,
    email: user.email,
    verified: user.verified,
    createdAt: new Date(user.createdAt)
  }),
  lock: Option.map(lock, toLock)
})

/**
 * Builds the service from the store's ports. The changes run in the `UserStore`'s transaction with their
 * security events (recorded through the `SecurityEventStore` when the store provides one, published on
 * `SecurityEvents` when it is in context, after the commit).
 *
 * @since 0.3.0
 * @category constructors
 */
export const make: Effect.Effect<
  UserHarborAdminService,
  never,
  UserStore | AccountAdminStore | CounterStore | SecureRandom | UserHarborConfig
> = Effect.gen(function*() {
  const store = yield* UserStore
  const admin = yield* AccountAdminStore
  const config = yield* UserHarborConfig
  const random = yield* SecureRandom
  const tokens = Tokens.make(config.secretKey, random)
  const throttle = Throttle.make(yield* CounterStore, store, config.throttle, tokens.digest, config.enumeration)
  const recorder = yield* EventRecorder.fromContext
  const strict = config.enumeration === "strict"

  const notFound = Effect.fail(new UserNotFound())
  const existing = (found: Option.Option<UserRecord>) => Option.isSome(found) ? Effect.succeed(found.value) : notFound
  // Only an id of the shape UserHarbor makes reaches the store (whose column may not even hold another).
  const byId = (id: string) =>
    Tokens.isId(id) ? Effect.flatMap(store.findUserById(UserId.make(id)), existing) : notFound

  // A name or address that validation refuses is no account's.
  const lookUp = (lookup: UserLookup): Effect.Effect<UserRecord, UserNotFound | StoreError> => {
    if ("id" in lookup) return byId(lookup.id)
    if ("username" in lookup) {
      return Username.validate(lookup.username).pipe(
        Effect.flatMap((valid) => store.findUserByUsername(valid.key)),
        Effect.catchTag("InvalidUsername", () => notFound),
        Effect.flatMap(existing)
      )
    }
    return Email.validate(lookup.email).pipe(
      Effect.flatMap((valid) => store.findUserByEmail(valid.key)),
      Effect.catchTag("InvalidEmail", () => notFound),
      Effect.flatMap(existing)
    )
  }

  // An administrative change: the actor checked, then, in one transaction with its events, the account looked up
  // and changed.
  const change = <A, E>(
    input: AdminAction,
    body: (user: UserRecord, actorId: string) => Effect.Effect<A, E>
  ) =>
    Effect.flatMap(
      AdminInput.actorId(input.actorId),
      (actorId) => recorder.transaction(Effect.flatMap(byId(input.userId), (user) => body(user, actorId)))
    )

  return UserHarborAdmin.of({
    findUser: Effect.fn("UserHarborAdmin.findUser")(function*(lookup: UserLookup) {
      const user = yield* lookUp(lookup)
      return toAdminUser(user, yield* admin.findLock(user.id))
    }, Observe.withOutcome),

    listUsers: Effect.fn("UserHarborAdmin.listUsers")(function*(input: ListUsersInput) {
      const query = yield* AdminInput.listQuery(input)
      // One more than the page, to know whether another follows.
      const entries = yield* admin.listUsers({ ...query, limit: query.limit + 1 })
      const page = entries.slice(0, query.limit)
      const last = page.at(-1)
      return {
        users: page.map((entry) => toAdminUser(entry.user, entry.lock)),
        nextCursor: entries.length > query.limit && last !== undefined
          ? Option.some(AdminInput.cursorOf({ createdAt: last.user.createdAt, id: last.user.id }))
          : Option.none()
      }
    }, Observe.withOutcome),

    lock: Effect.fn("UserHarborAdmin.lock")(function*(input: LockInput) {
      const reason = yield* AdminInput.reason(input.reason)
      return yield* change(input, (user, actorId) =>
        Effect.gen(function*() {
          const lockedAt = yield* Clock.currentTimeMillis
          if (!(yield* admin.insertLock({ userId: user.id, reason, actorId, lockedAt }))) return false
          // Through the UserStore in context, so a SessionCache over it (and its channel) drops them too.
          yield* store.deleteUserSessions(user.id)
          yield* recorder.record(
            user.id,
            { actorId },
            (common) => new SecurityEvent.AccountLocked({ ...common, reason })
          )
          return true
        }))
    }, Observe.withOutcome),

    unlock: Effect.fn("UserHarborAdmin.unlock")(function*(input: AdminAction) {
      return yield* change(input, (user, actorId) =>
        Effect.gen(function*() {
          if (!(yield* admin.deleteLock(user.id))) return false
          yield* recorder.record(user.id, { actorId }, (common) => new SecurityEvent.AccountUnlocked(common))
          return true
        }))
    }, Observe.withOutcome),

    endSessions: Effect.fn("UserHarborAdmin.endSessions")(function*(input: AdminAction) {
      return yield* change(input, (user, actorId) =>
        Effect.gen(function*() {
          const count = yield* store.deleteUserSessions(user.id)
          yield* recorder.record(
            user.id,
            { actorId },
            (common) => new SecurityEvent.SessionsEndedByAdmin({ ...common, count })
          )
          return count
        }))
    }, Observe.withOutcome),

    markVerified: Effect.fn("UserHarborAdmin.markVerified")(function*(input: AdminAction) {
      return yield* change(input, (user, actorId) =>
        Effect.gen(function*() {
          if (user.verified) return false
          yield* store.markVerified(user.id)
          // The link the user was mailed has nothing left to do.
          yield* store.deleteUserTokens(user.id, "verify-email")
          // As `verifyEmail` does: in the strict mode the owner's logins before verification counted as failures.
          if (strict) yield* throttle.clear(user)
          yield* recorder.record(user.id, { actorId }, (common) => new SecurityEvent.AccountVerifiedByAdmin(common))
          return true
        }))
    }, Observe.withOutcome),

    deleteUser: Effect.fn("UserHarborAdmin.deleteUser")(function*(input: AdminAction) {
      yield* change(input, (user, actorId) =>
        Effect.gen(function*() {
          // The event outlives the account (the trail keeps it until the retention purge).
          yield* recorder.record(user.id, { actorId }, (common) => new SecurityEvent.AccountDeleted(common))
          yield* store.deleteUser(user.id)
        }))
    }, Observe.withOutcome),

    clearThrottle: Effect.fn("UserHarborAdmin.clearThrottle")(function*(input: AdminAction) {
      yield* change(input, (user, actorId) =>
        Effect.gen(function*() {
          yield* throttle.clear(user)
          yield* recorder.record(user.id, { actorId }, (common) => new SecurityEvent.ThrottleCleared(common))
        }))
    }, Observe.withOutcome)
  })
})

/**
 * The administration service over the store's ports: a layer of its own, beside `UserHarbor.layer`, on the same
 * store layer (so a `SessionCache` over the `UserStore` sees the sessions a lock ends). Give it the same
 * `UserHarborConfig`: it keys the throttling counters that `clearThrottle` clears with the secret key.
 *
 * @since 0.3.0
 * @category layers
 */
export const layer: Layer.Layer<
  UserHarborAdmin,
  never,
  UserStore | AccountAdminStore | CounterStore | SecureRandom | UserHarborConfig
> = Layer.effect(UserHarborAdmin, make)
