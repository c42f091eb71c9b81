import type * as Fiber from "effect/Fiber"
import type { SessionWithUser, TokenHash, UserStoreService } from "../UserStore.js"

/** `lookup`'s answer when only running `findSession` can tell (a cache's miss): the caller takes the `Effect` path. */
export const unanswered: unique symbol = Symbol.for("userharbor/SyncLookup/unanswered")

/**
 * A store's session look-up that can answer synchronously, registered by the store for its own `findSession` (the
 * SQLite reader). Kept apart from the SQL modules so the core loads no database library.
 */
export interface SyncLookup {
  /**
   * The row, `undefined` for none, at `now` (the caller's clock); `unanswered` when only `findSession` can tell. It
   * throws on anything else (a database error, an impossible row), and the caller then takes the `Effect` path,
   * which reports it properly.
   */
  readonly lookup: (tokenHash: TokenHash, now: number) => SessionWithUser | undefined | typeof unanswered
  /** Whether `findSession`, run by this fiber, is exactly `lookup` (outside transactions). */
  readonly appliesIn: (fiber: Fiber.RuntimeFiber<unknown, unknown>) => boolean
  /**
   * A value that moves whenever the database may have changed, by any writer, this process's included (SQLite's
   * `data_version`); absent where the store cannot tell. A cache over the store drops what it holds when it moves.
   */
  readonly version?: (() => unknown) | undefined
}

// Keyed by the `findSession` function itself: a store decorated over it (the session cache, an instrumented test
// store) has another `findSession`, so it never gets this shortcut around its own logic.
const registered = new WeakMap<UserStoreService["findSession"], SyncLookup>()

/** Records that `findSession`, where `appliesIn` says so, is exactly `lookup` run synchronously. */
export const register = (
  findSession: UserStoreService["findSession"],
  syncLookup: SyncLookup
): UserStoreService["findSession"] => {
  registered.set(findSession, syncLookup)
  return findSession
}

/** The synchronous look-up behind a store's `findSession`, when it has one. */
export const of = (findSession: UserStoreService["findSession"]): SyncLookup | undefined => registered.get(findSession)
