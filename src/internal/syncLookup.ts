import type * as Context from "effect/Context"
import type { SessionWithUser, TokenHash, UserStoreService } from "../UserStore.js"

/**
 * A store's session look-up that can answer synchronously, registered by the store for its own `findSession` (the
 * SQLite reader). Kept apart from the SQL modules so the core loads no database library.
 */
export interface SyncLookup {
  /**
   * The row, `undefined` for none; it throws on anything else (a database error, an impossible row), and the caller
   * then takes the `Effect` path, which reports it properly.
   */
  readonly lookup: (tokenHash: TokenHash) => SessionWithUser | undefined
  /** Whether `findSession`, run by a fiber with this context, is exactly `lookup` (outside transactions). */
  readonly appliesIn: (context: Context.Context<never>) => boolean
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
