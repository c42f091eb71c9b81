/**
 * What an administrator's lock (`UserHarborAdmin.lock`) means to the account service: no new session for a locked
 * account. Two checks, both only after the account proved itself (a right password, code or passkey), so the
 * answer tells a guesser nothing:
 * - `refuse`, before a login hands out anything (a session, or a second-factor challenge);
 * - `guard`, inside the transaction that inserts a session, after the insert: a lock that commits while the login
 *   runs is seen there (the store orders the two, see `AccountAdminStore`), and the session is rolled back.
 * Session checks do not look at locks at all: a lock ends every session in its own transaction, so a locked account
 * has none to check, and `validateSession` costs what it did.
 *
 * Without an `AccountAdminStore` in context (a store written before 0.3.0) no account can be locked: both are no-ops.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { AccountAdminStoreService } from "../AccountAdminStore.js"
import { AccountLocked, type StoreError } from "../Errors.js"
import * as SecurityEvent from "../SecurityEvent.js"
import type { UserId } from "../User.js"
import type * as EventRecorder from "./securityEvents.js"

export interface Deps {
  readonly locks: Option.Option<AccountAdminStoreService>
  readonly recorder: EventRecorder.Recorder
}

export interface AccountLocks {
  /** Fails with `AccountLocked`, recording the refused login, when the account is locked. */
  readonly refuse: (userId: UserId, details: EventRecorder.Details) => Effect.Effect<void, AccountLocked | StoreError>
  /** For the session insert's transaction: fails with `AccountLocked` when the account is locked. */
  readonly guard: Option.Option<(userId: UserId) => Effect.Effect<void, AccountLocked | StoreError>>
  /** Records a login refused by `guard` (after its transaction rolled back, so on its own). */
  readonly refused: (userId: UserId, details: EventRecorder.Details) => Effect.Effect<void, StoreError>
}

export const make = ({ locks, recorder }: Deps): AccountLocks => {
  const refused = (userId: UserId, details: EventRecorder.Details) =>
    recorder.recordAlone(userId, details, (common) => new SecurityEvent.LoginFailed({ ...common, reason: "locked" }))
  const guard = Option.map(locks, (port) => (userId: UserId) =>
    Effect.flatMap(
      port.findLock(userId),
      (lock) => Option.isSome(lock) ? Effect.fail(new AccountLocked()) : Effect.void
    ))
  return {
    refuse: Option.match(guard, {
      onNone: () => () => Effect.void,
      onSome: (check) => (userId, details) =>
        Effect.tapErrorTag(check(userId), "AccountLocked", () => refused(userId, details))
    }),
    guard,
    refused
  }
}
