/**
 * An optional in-process cache of session look-ups, as a `UserStore` decorator: a cached `findSession` costs a map
 * look-up instead of a query. Put it over any store:
 *
 * ```ts
 * const Store = SessionCache.layer({ ttl: "5 seconds" }).pipe(
 *   Layer.provideMerge(SqliteUserStore.layer({ filename: "app.db" }))
 * )
 * ```
 *
 * How it stays correct on revocation:
 * - In this process, at once: every store method that ends or changes sessions or their user (`deleteSession`,
 *   `deleteUserSessions`, `deleteUserSession`, `deleteOtherUserSessions`, `trimUserSessions`, `updatePassword`,
 *   `deleteUser`, `purgeUnverifiedUsers`, `deleteUnverifiedUsers`, `markVerified`, `renewSession`) drops the
 *   affected entries when it returns, so logout, logout everywhere, password change and reset, and account deletion
 *   take effect before they return. For one `ttl` after
 *   such a call, look-ups of the affected sessions are not cached again: a read that raced the revocation (or one
 *   made before an enclosing transaction commits) cannot put the old row back. Inside `withTransaction` the cache is
 *   bypassed, and the revocations made in it are applied again when the outermost transaction ends.
 * - On a SQLite file, any change at once: the store's reader tells when the file changed (SQLite's `data_version`,
 *   moved by every commit of another connection: this process's writer, the operator CLI, a script), and the cache
 *   then drops everything before the next look-up. Every write empties it, so it pays where checks outnumber writes.
 * - Across processes elsewhere, within `ttl`: an entry is served for at most `ttl` after it was read from the store,
 *   so a revocation made by another process (or directly in the database) is seen within that bound.
 * - Across processes, at once, with `layerShared` over a `SessionInvalidation` channel (`PgSessionInvalidation` on
 *   PostgreSQL, or Redis): every revocation above is also published, when it is applied here (so again when the
 *   outermost transaction ends), and every instance applies everyone's as its own, tombstones included. A call
 *   whose publication fails fails with `StoreError` (its write stands). While the channel is down (not yet
 *   connected, or lost) nothing is served from memory: every look-up asks the store; once it is back, the cache
 *   starts empty, since messages sent meanwhile may be lost. A renewal is published too, so other instances read
 *   the renewed row. Revocations made directly in the database are still seen only within `ttl`.
 *
 * Only sessions that exist are cached; a miss always asks the store, so a session created by another process is
 * usable at once. An app that runs store calls inside its own `sql.withTransaction` (rather than the store's
 * `withTransaction`) should not validate sessions in that transaction: the cache cannot see it.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as EffectTypes from "./EffectTypes.js"
import type { StoreError } from "./Errors.js"
import * as Durations from "./internal/durations.js"
import * as SyncLookup from "./internal/syncLookup.js"
import { type Invalidation, SessionInvalidation, type SessionInvalidationService } from "./SessionInvalidation.js"
import type { UserId } from "./User.js"
import { type SessionWithUser, type TokenHash, UserStore, type UserStoreService } from "./UserStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * How long an entry is served without asking the store: the bound on how late this process sees a revocation made
   * elsewhere. 5 seconds by default; it must be positive and finite (building the cache dies on any other value).
   */
  readonly ttl?: EffectTypes.DurationInput | undefined
  /** How many sessions are kept; the least recently used go first. 10,000 by default. */
  readonly capacity?: number | undefined
}

interface Entry {
  readonly value: SessionWithUser
  readonly readAt: number
}

/** Keys that must not be cached again before their time: `key → until` in insertion (and so time) order. */
class Tombstones<K> {
  private readonly until = new Map<K, number>()
  add(key: K, until: number): void {
    // Re-inserted, so the map stays ordered by expiry and `prune` can stop at the first live one.
    this.until.delete(key)
    this.until.set(key, until)
  }
  has(key: K, now: number): boolean {
    const until = this.until.get(key)
    return until !== undefined && until > now
  }
  prune(now: number): void {
    for (const [key, until] of this.until) {
      if (until > now) return
      this.until.delete(key)
    }
  }
}

/**
 * Wraps the `UserStore` in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<UserStoreService, never, UserStore> =>
  Effect.map(build(options, Option.none()), ({ cached }) => cached)

/**
 * Wraps the `UserStore` in context, sharing revocations over the `SessionInvalidation` in context: every revocation
 * made through this store is published, and everyone's are applied (see the module comment). The subscription
 * lives in the scope.
 *
 * @since 0.3.0
 * @category constructors
 */
export const makeShared = (
  options: Options = {}
): Effect.Effect<UserStoreService, never, UserStore | SessionInvalidation | Scope.Scope> =>
  Effect.gen(function*() {
    const channel = yield* SessionInvalidation
    const { apply, cached, connection } = yield* build(options, Option.some(channel))
    yield* channel.subscribe.pipe(
      Stream.runForEach((event) => {
        switch (event._tag) {
          case "Connected":
            return Effect.sync(() => connection.up())
          case "Disconnected":
            return Effect.sync(() => connection.down())
          default:
            return apply(event)
        }
      }),
      Effect.ensuring(Effect.sync(() => connection.down())),
      Effect.forkScoped
    )
    return cached
  })

const build = (options: Options, channel: Option.Option<SessionInvalidationService>) =>
  Effect.gen(function*() {
    const store = yield* UserStore
    const ttl = Duration.toMillis(yield* Durations.positiveOrDie(["ttl"], options.ttl ?? "5 seconds"))
    const capacity = Math.max(1, options.capacity ?? 10_000)

    const entries = new Map<string, Entry>()
    const byUser = new Map<UserId, Set<string>>()
    const revokedTokens = new Tombstones<string>()
    const revokedUsers = new Tombstones<UserId>()
    // Revocations made inside the current transaction, to apply again once it ends; `undefined` outside one.
    const pending = FiberRef.unsafeMake<Array<() => Effect.Effect<void, StoreError>> | undefined>(undefined)
    // Shared: whether the channel is live (nothing is served from memory while it is not), and which connection a
    // read began under, so a read that straddles a loss does not put what it found back.
    let live = Option.isNone(channel)
    let epoch = 0
    const clear = () => {
      entries.clear()
      byUser.clear()
    }
    const connection = {
      up: () => {
        clear()
        epoch++
        live = true
      },
      down: () => {
        clear()
        epoch++
        live = false
      }
    }

    const forget = (tokenHash: string) => {
      const entry = entries.get(tokenHash)
      if (entry === undefined) return
      entries.delete(tokenHash)
      const tokens = byUser.get(entry.value.user.id)
      tokens?.delete(tokenHash)
      if (tokens?.size === 0) byUser.delete(entry.value.user.id)
    }

    const remember = (tokenHash: string, value: SessionWithUser, now: number) => {
      if (revokedTokens.has(tokenHash, now) || revokedUsers.has(value.user.id, now)) return
      forget(tokenHash)
      entries.set(tokenHash, { value, readAt: now })
      const tokens = byUser.get(value.user.id)
      if (tokens === undefined) byUser.set(value.user.id, new Set([tokenHash]))
      else tokens.add(tokenHash)
      // Maps iterate in insertion order and hits re-insert, so the first key is the least recently used.
      if (entries.size > capacity) {
        const oldest = entries.keys().next()
        if (oldest.done !== true) forget(oldest.value)
      }
    }

    const revokeToken = (tokenHash: string): Effect.Effect<void> =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        forget(tokenHash)
        revokedTokens.prune(now)
        revokedTokens.add(tokenHash, now + ttl)
      })

    const revokeUser = (userId: UserId): Effect.Effect<void> =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        for (const tokenHash of byUser.get(userId) ?? []) forget(tokenHash)
        revokedUsers.prune(now)
        revokedUsers.add(userId, now + ttl)
      })

    // The purges of unverified accounts do not say which users went: every cached user not verified might have.
    const revokeUnverified = (): Effect.Effect<void> =>
      Effect.forEach(
        [...new Set([...entries.values()].filter((entry) => !entry.value.user.verified).map((e) => e.value.user.id))],
        revokeUser,
        { discard: true }
      )

    const apply = (invalidation: Invalidation): Effect.Effect<void> => {
      switch (invalidation._tag) {
        case "Session":
          return revokeToken(invalidation.tokenHash)
        case "User":
          return revokeUser(invalidation.userId)
        case "Unverified":
          return revokeUnverified()
      }
    }

    // Here first, then everywhere (this process hears its own message too, and applies it again, harmlessly).
    const publish: (invalidation: Invalidation) => Effect.Effect<void, StoreError> = Option.match(channel, {
      onNone: () => () => Effect.void,
      onSome: (shared) => shared.publish
    })

    // After the write, whether it succeeded or not (a failed write may still have committed); inside a transaction,
    // also once more when it ends, since a reader outside it sees the old rows until then. A failed publication
    // fails the call (with `StoreError`) unless the write failed already: the caller must not believe that every
    // instance dropped the session.
    const after = <A, E, R>(write: Effect.Effect<A, E, R>, revoke: Effect.Effect<void, StoreError>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Effect.exit(restore(write)), (written) =>
          Effect.map(Effect.exit(revoke), (revoked): Exit.Exit<A, E | StoreError> =>
            Exit.isFailure(written) ? written : Exit.zipRight(revoked, written))).pipe(Effect.flatten)
      )

    const revoking = <A, E>(
      write: Effect.Effect<A, E>,
      invalidation: Invalidation,
      local: Effect.Effect<void> = apply(invalidation)
    ): Effect.Effect<A, E | StoreError> => {
      const revoke = () =>
        Effect.zipRight(local, publish(invalidation))
      return after(
        write,
        Effect.flatMap(FiberRef.get(pending), (inTransaction) => {
          inTransaction?.push(revoke)
          return revoke()
        })
      )
    }

    const session = (tokenHash: TokenHash): Invalidation => ({ _tag: "Session", tokenHash })
    const user = (userId: UserId): Invalidation => ({ _tag: "User", userId })
    const unverified: Invalidation = { _tag: "Unverified" }

    // An entry still within its TTL at `now`, moved to the back of the eviction order; `undefined` otherwise.
    const freshHit = (tokenHash: TokenHash, now: number): SessionWithUser | undefined => {
      const hit = entries.get(tokenHash)
      if (hit === undefined || now - hit.readAt >= ttl) {
        return undefined
      }
      entries.delete(tokenHash)
      entries.set(tokenHash, hit)
      return hit.value
    }

    // Where the store can tell that its database changed (SQLite, by any connection), everything held is dropped
    // then, before a look-up, and reads begun before it are not kept: a change made outside this cache (the
    // operator CLI in another process, a script) is seen at the next look-up rather than within `ttl`. Own writes
    // count too, so each costs the entries held; correct first, and a read-mostly load keeps its hits.
    const version = SyncLookup.of(store.findSession)?.version
    let seen = version?.()
    const catchUp = version === undefined ? () => {} : () => {
      const now = version()
      if (now !== seen) {
        seen = now
        clear()
        epoch++
      }
    }

    const findSession = (tokenHash: TokenHash) =>
      Effect.flatMap(FiberRef.get(pending), (inTransaction) =>
        inTransaction !== undefined || !live
          ? store.findSession(tokenHash)
          : Effect.flatMap(Clock.currentTimeMillis, (now) => {
            catchUp()
            const readUnder = epoch
            const hit = freshHit(tokenHash, now)
            if (hit !== undefined) {
              return Effect.succeedSome(hit)
            }
            forget(tokenHash)
            return Effect.tap(store.findSession(tokenHash), (found) =>
              Option.isSome(found) && epoch === readUnder
                ? Effect.map(Clock.currentTimeMillis, (readAt) =>
                  remember(tokenHash, found.value, readAt))
                : Effect.void)
          }))

    // A hit as `findSession` serves it, for the session check's one-step shortcut (`validateSession` with no
    // fiber steps for the look-up, docs/performance.md): what a hit costs is then a map read, not the dozen Effect
    // steps around it. A miss, a stale entry or the channel down is `unanswered`: `findSession` reads the store.
    // Inside the store's transaction (`pending` set) the shortcut does not apply, as `findSession` bypasses the cache.
    SyncLookup.register(findSession, {
      lookup: (tokenHash, now) => {
        if (!live) return SyncLookup.unanswered
        catchUp()
        return freshHit(tokenHash, now) ?? SyncLookup.unanswered
      },
      appliesIn: (fiber) => fiber.getFiberRef(pending) === undefined
    })

    const withTransaction = <A, E, R>(self: Effect.Effect<A, E, R>) =>
      Effect.flatMap(FiberRef.get(pending), (outer) => {
        if (outer !== undefined) return store.withTransaction(self)
        const revocations: Array<() => Effect.Effect<void, StoreError>> = []
        return after(
          store.withTransaction(Effect.locally(self, pending, revocations)),
          Effect.suspend(() => Effect.forEach(revocations, (revoke) => revoke(), { discard: true }))
        )
      })

    // Every method listed, none spread in: a method added to the port does not compile here until the cache decides
    // whether it ends or changes sessions (and must revoke) or may pass through.
    const cached: UserStoreService = {
      // users
      insertUser: store.insertUser,
      findUserById: store.findUserById,
      findUserByUsername: store.findUserByUsername,
      findUserByEmail: store.findUserByEmail,
      markVerified: (id) => revoking(store.markVerified(id), user(id)),
      updatePassword: (update) => revoking(store.updatePassword(update), user(update.userId)),
      deleteUser: (id) => revoking(store.deleteUser(id), user(id)),

      // single-use tokens
      issueToken: store.issueToken,
      findToken: store.findToken,
      consumeToken: store.consumeToken,
      deleteUserTokens: store.deleteUserTokens,

      // sessions
      insertSession: store.insertSession,
      insertSessionIfPasswordVersion: store.insertSessionIfPasswordVersion,
      findSession,
      // Here the renewed row is only read again; elsewhere it is dropped like any changed session.
      renewSession: (renewal) =>
        revoking(
          store.renewSession(renewal),
          session(renewal.tokenHash),
          Effect.sync(() => forget(renewal.tokenHash))
        ),
      deleteSession: (tokenHash) => revoking(store.deleteSession(tokenHash), session(tokenHash)),
      deleteUserSessions: (userId) => revoking(store.deleteUserSessions(userId), user(userId)),
      listUserSessions: store.listUserSessions,
      deleteUserSession: (userId, sessionId) => revoking(store.deleteUserSession(userId, sessionId), user(userId)),
      deleteOtherUserSessions: (userId, keepTokenHash) =>
        revoking(store.deleteOtherUserSessions(userId, keepTokenHash), user(userId)),
      trimUserSessions: (userId, keep) => revoking(store.trimUserSessions(userId, keep), user(userId)),

      // purging: a purged session had expired, and the caller judges expiry on a cached session too
      purgeExpired: store.purgeExpired,
      purgeUnverifiedUsers: (options) => revoking(store.purgeUnverifiedUsers(options), unverified),
      deleteUnverifiedUsers: (options) => revoking(store.deleteUnverifiedUsers(options), unverified),

      withTransaction
    }
    return { apply, cached: UserStore.of(cached), connection }
  })

/**
 * The cache over the `UserStore` it is provided with; see the module comment for its guarantees.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<UserStore, never, UserStore> =>
  Layer.effect(UserStore, make(options))

/**
 * The cache over the `UserStore` it is provided with, sharing revocations with every other instance over the
 * `SessionInvalidation` it is provided with; see the module comment.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerShared = (options: Options = {}): Layer.Layer<UserStore, never, UserStore | SessionInvalidation> =>
  Layer.scoped(UserStore, makeShared(options))
