/**
 * `MemoryUserStore`'s `AccountAdminStore`: locks beside the users in the store's one state, so they commit and roll
 * back with its transactions, and the directory as a sort of that state (fine for tests and prototypes).
 */
import type * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import {
  AccountAdminStore,
  type AccountAdminStoreService,
  type AccountLockRecord,
  type UserListFilter,
  type UserListPosition
} from "../AccountAdminStore.js"
import type { UserId } from "../User.js"
import type { UserRecord } from "../UserStore.js"

/** The part of the memory store's state this port reads and writes. */
export interface Slice {
  readonly users: HashMap.HashMap<UserId, UserRecord>
  readonly locks: HashMap.HashMap<UserId, AccountLockRecord>
}

export interface Access<S extends Slice> {
  readonly read: <A>(f: (s: S) => A) => Effect.Effect<A>
  readonly write: <A>(f: (s: S) => readonly [A, S]) => Effect.Effect<A>
}

// The directory's order: `createdAt`, then `id` as JavaScript compares strings (bytewise for the ASCII ids).
const order = (a: UserListPosition, b: UserListPosition): number =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

const passes = (filter: UserListFilter, user: UserRecord, locked: boolean): boolean =>
  (filter.verified === undefined || user.verified === filter.verified) &&
  (filter.locked === undefined || locked === filter.locked) &&
  (filter.createdBefore === undefined || user.createdAt < filter.createdBefore) &&
  (filter.createdAfter === undefined || user.createdAt > filter.createdAfter)

export const make = <S extends Slice>({ read, write }: Access<S>): AccountAdminStoreService =>
  AccountAdminStore.of({
    insertLock: (lock) =>
      write((s) =>
        HashMap.has(s.users, lock.userId) && !HashMap.has(s.locks, lock.userId)
          ? [true, { ...s, locks: HashMap.set(s.locks, lock.userId, lock) }]
          : [false, s]
      ),
    deleteLock: (userId) =>
      write((s) => [HashMap.has(s.locks, userId), { ...s, locks: HashMap.remove(s.locks, userId) }]),
    findLock: (userId) => read((s) => HashMap.get(s.locks, userId)),
    listUsers: ({ after, filter, limit }) =>
      read((s) =>
        Array.from(HashMap.values(s.users))
          .filter((user) =>
            Option.match(after, { onNone: () => true, onSome: (position) => order(user, position) > 0 }) &&
            passes(filter, user, HashMap.has(s.locks, user.id))
          )
          .sort(order)
          .slice(0, Math.max(0, limit))
          .map(({ createdAt, email, id, username, verified }) => ({
            user: { id, username, email, verified, createdAt },
            lock: HashMap.get(s.locks, id)
          }))
      )
  })

/** What removing a user takes with it here (as the SQL stores' foreign keys cascade). */
export const removeLock = <S extends Slice>(s: S, id: UserId): S => ({ ...s, locks: HashMap.remove(s.locks, id) })
